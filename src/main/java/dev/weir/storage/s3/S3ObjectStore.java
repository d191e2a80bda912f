package dev.weir.storage.s3;

import dev.weir.storage.ObjectMissingException;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.ObjectWriter;
import dev.weir.storage.StorageException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Objects in an S3 bucket (AWS S3, MinIO, Ceph, or anything that speaks the S3 API), under a key prefix.
 * An object is uploaded with one PUT that never overwrites ({@code If-None-Match: *}), read with ranged
 * GETs, sized with HEAD, listed and deleted. It offers neither file access nor WAL files: reads go
 * through the process, and each WAL object will be an object of its own. S3's errors become
 * {@link StorageException}s here, in one place. Every request is bounded in time (the timeouts below):
 * a server that stalls fails the request after its attempts, rather than hold up the broker's writes
 * behind it. Thread-safe (the S3 client is).
 */
public final class S3ObjectStore implements ObjectStore {
    /**
     * How long opening a TCP connection to S3 may take: it takes milliseconds, so an endpoint that has not
     * accepted by then is down or unreachable, and the attempt fails (and is retried) rather than wait on.
     */
    public static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(2);
    /** How long a request waits for a free connection of the pool before it fails. */
    public static final Duration CONNECTION_ACQUISITION_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long a connection may stay silent while an answer is due, the body of a GET included (which the
     * attempt timeout does not cover once the answer began): past that the server stalled.
     */
    public static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long one attempt of a request without a large body may take, up to the start of its answer. S3
     * answers those in well under a second; one that has not answered in 5 s sits on a stalled connection
     * or server, and a new attempt on another connection is the better bet. Without it, a request that
     * is never answered held the broker for the socket timeout of every attempt (the SDK's 30 s, three
     * times), and every WAL object behind it waited that long for its commit.
     */
    public static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);
    /**
     * The slowest upload that still counts as working: an upload's attempt gets {@link #ATTEMPT_TIMEOUT}
     * plus its size at this rate, so that a large segment is not cut off while a stalled one is.
     */
    public static final long MIN_UPLOAD_BYTES_PER_SECOND = 2 * 1024 * 1024;
    /** The most keys one DeleteObjects request may name (S3's limit). */
    public static final int MAX_KEYS_PER_DELETE = 1000;
    /** Attempts of a request, the first included: the SDK's standard retry mode, made explicit since it bounds calls. */
    public static final int MAX_ATTEMPTS = 3;
    /** Room for the SDK's back-off between attempts (longer after throttling, 503 SlowDown) in a call's timeout. */
    static final Duration BACKOFF_ALLOWANCE = Duration.ofSeconds(5);
    private static final int HTTP_NOT_FOUND = 404;
    private static final int HTTP_PRECONDITION_FAILED = 412;
    private static final int HTTP_CONFLICT = 409;
    private static final int HTTP_RANGE_NOT_SATISFIABLE = 416;

    private final S3Client client;
    private final String bucket;
    private final String prefix;

    /** Objects of {@code bucket} whose keys start with {@code prefix} ("" or ending in "/"); closes the client. */
    public S3ObjectStore(S3Client client, String bucket, String prefix) {
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            throw new IllegalArgumentException("an object key prefix ends with '/': " + prefix);
        }
        this.client = client;
        this.bucket = bucket;
        this.prefix = prefix;
    }

    /**
     * Opens the objects at {@code url} ({@code s3://bucket} or {@code s3://bucket/prefix}). {@code endpoint}
     * names an S3-compatible server (null: AWS S3); {@code region} null takes the SDK's default region chain
     * (with an endpoint, us-east-1, which S3-compatible servers ignore); {@code accessKey} and
     * {@code secretKey} null take the SDK's default credentials chain (environment, profile, web identity,
     * container or instance role). Against an endpoint, request checksums are sent only where S3 requires
     * them, as S3-compatible servers expect, and as Content-MD5 (for DeleteObjects), which servers such as
     * MinIO require where the SDK would send a CRC32 of its own.
     */
    public static S3ObjectStore open(URI url, String endpoint, String region, boolean pathStyle, String accessKey,
                                     String secretKey) {
        if (!"s3".equals(url.getScheme()) || url.getHost() == null || url.getHost().isEmpty()) {
            throw new IllegalArgumentException("an S3 location is s3://bucket or s3://bucket/prefix, not " + url);
        }
        String prefix = url.getPath() == null ? "" : url.getPath().replaceAll("^/+", "");
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix += "/";
        }
        S3ClientBuilder builder = S3Client.builder().forcePathStyle(pathStyle)
            .httpClientBuilder(Apache5HttpClient.builder().connectionTimeout(CONNECTION_TIMEOUT)
                .connectionAcquisitionTimeout(CONNECTION_ACQUISITION_TIMEOUT).socketTimeout(SOCKET_TIMEOUT))
            .overrideConfiguration(override -> override.retryStrategy(retry -> retry.maxAttempts(MAX_ATTEMPTS))
                .apiCallAttemptTimeout(ATTEMPT_TIMEOUT).apiCallTimeout(callTimeout(ATTEMPT_TIMEOUT)));
        if (endpoint != null) {
            builder.endpointOverride(URI.create(endpoint)).addPlugin(LegacyMd5Plugin.create())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        if (region != null) {
            builder.region(Region.of(region));
        } else if (endpoint != null) {
            builder.region(Region.US_EAST_1);
        }
        if (accessKey != null || secretKey != null) {
            if (accessKey == null || secretKey == null) {
                throw new IllegalArgumentException("an S3 access key needs its secret key, and the other way round");
            }
            builder.credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)));
        }
        return new S3ObjectStore(builder.build(), url.getHost(), prefix);
    }

    /** The time one attempt to upload {@code bytes} may take. */
    static Duration uploadAttemptTimeout(long bytes) {
        return ATTEMPT_TIMEOUT.plusMillis(bytes * 1000 / MIN_UPLOAD_BYTES_PER_SECOND);
    }

    /** The time a whole call may take: every attempt, and the back-off between them. */
    static Duration callTimeout(Duration attemptTimeout) {
        return attemptTimeout.multipliedBy(MAX_ATTEMPTS).plus(BACKOFF_ALLOWANCE);
    }

    /** A PUT that never overwrites, with the time-outs of an upload of {@code bytes}. */
    private PutObjectRequest.Builder putRequest(String key, long bytes, PutObjectRequest.Builder request) {
        Duration attemptTimeout = uploadAttemptTimeout(bytes);
        return request.bucket(bucket).key(s3Key(key)).ifNoneMatch("*")
            .overrideConfiguration(override -> override.apiCallAttemptTimeout(attemptTimeout)
                .apiCallTimeout(callTimeout(attemptTimeout)));
    }

    /** Where the objects are, for messages. */
    @Override
    public String toString() {
        return "s3://" + bucket + "/" + prefix;
    }

    private String s3Key(String key) {
        return prefix + key;
    }

    @Override
    public ObjectWriter create(String key) {
        return new Upload(key);
    }

    /** One PUT of the parts, copied together, since the SDK's request body is one buffer or stream. */
    @Override
    public void put(String key, ByteBuffer... parts) {
        int size = 0;
        for (ByteBuffer part : parts) {
            size = Math.addExact(size, part.remaining());
        }
        byte[] bytes = new byte[size];
        int at = 0;
        for (ByteBuffer part : parts) {
            int length = part.remaining();
            part.duplicate().get(bytes, at, length);
            at += length;
        }
        try {
            client.putObject(request -> putRequest(key, bytes.length, request), RequestBody.fromBytes(bytes));
        } catch (SdkException e) {
            if (isPreconditionFailure(e) && holds(key, bytes)) {
                // The SDK retried a PUT whose first attempt landed (its answer timed out): the object is this one.
                return;
            }
            throw storageFailure("uploading", key, e);
        }
    }

    private static boolean isPreconditionFailure(SdkException e) {
        return e instanceof S3Exception s3 && s3.statusCode() == HTTP_PRECONDITION_FAILED;
    }

    /** Whether the object under the key holds exactly these bytes; false if it cannot be read. */
    private boolean holds(String key, byte[] bytes) {
        try {
            byte[] stored = client.getObjectAsBytes(request -> request.bucket(bucket).key(s3Key(key))).asByteArray();
            return java.util.Arrays.equals(stored, bytes);
        } catch (SdkException e) {
            return false;
        }
    }

    /** Puts the bytes of {@code file} ({@code size} of them) as the object, failing if the key is taken. */
    private void put(String key, Path file, long size) {
        try {
            client.putObject(request -> putRequest(key, size, request), RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw storageFailure("uploading", key, e);
        }
    }

    @Override
    public void readInto(String key, long position, ByteBuffer target) {
        int length = target.remaining();
        if (readAtMost(key, position, target) < length) {
            throw new StorageException("object " + key + " ends before byte " + (position + length));
        }
    }

    /** One ranged GET; a range that starts at or after the object's end (416) reads nothing. */
    @Override
    public long readAtMost(String key, long position, ByteBuffer... targets) {
        long length = ObjectStore.remaining(targets);
        if (length == 0) {
            return 0;
        }
        long last = position + length - 1;
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(
            request -> request.bucket(bucket).key(s3Key(key)).range("bytes=" + position + "-" + last))) {
            return readFully(in, targets);
        } catch (S3Exception e) {
            if (e.statusCode() == HTTP_RANGE_NOT_SATISFIABLE) {
                return 0;
            }
            throw storageFailure("reading", key, e);
        } catch (SdkException e) {
            throw storageFailure("reading", key, e);
        } catch (IOException e) {
            throw new StorageException("reading object " + key + " failed: " + e.getMessage(), e);
        }
    }

    /** Fills the targets from the stream until they are full or it ends; heap buffers without a bounce copy. */
    private static long readFully(InputStream in, ByteBuffer[] targets) throws IOException {
        byte[] chunk = null;
        long read = 0;
        for (ByteBuffer target : targets) {
            while (target.hasRemaining()) {
                int n;
                if (target.hasArray()) {
                    n = in.read(target.array(), target.arrayOffset() + target.position(), target.remaining());
                    if (n > 0) {
                        target.position(target.position() + n);
                    }
                } else {
                    chunk = chunk != null ? chunk : new byte[64 * 1024];
                    n = in.read(chunk, 0, Math.min(chunk.length, target.remaining()));
                    if (n > 0) {
                        target.put(chunk, 0, n);
                    }
                }
                if (n < 0) {
                    return read;
                }
                read += n;
            }
        }
        return read;
    }

    @Override
    public long size(String key) {
        try {
            return client.headObject(request -> request.bucket(bucket).key(s3Key(key))).contentLength();
        } catch (SdkException e) {
            throw storageFailure("reading the size of", key, e);
        }
    }

    @Override
    public List<String> list(String keyPrefix) {
        List<String> keys = new ArrayList<>();
        try {
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)
                .prefix(s3Key(keyPrefix))).contents()) {
                keys.add(object.key().substring(prefix.length()));
            }
        } catch (SdkException e) {
            throw storageFailure("listing", keyPrefix + "*", e);
        }
        return keys;
    }

    @Override
    public void delete(String key) {
        try {
            client.deleteObject(request -> request.bucket(bucket).key(s3Key(key)));
        } catch (SdkException e) {
            throw storageFailure("deleting", key, e);
        }
    }

    /**
     * One DeleteObjects request per {@value #MAX_KEYS_PER_DELETE} keys, in quiet mode: S3 answers with the keys
     * it failed to delete alone, and deleting a missing key is no failure there either.
     */
    @Override
    public void deleteAll(Collection<String> keys) {
        List<String> all = List.copyOf(keys);
        for (int from = 0; from < all.size(); from += MAX_KEYS_PER_DELETE) {
            List<ObjectIdentifier> chunk = all.subList(from, Math.min(all.size(), from + MAX_KEYS_PER_DELETE)).stream()
                .map(key -> ObjectIdentifier.builder().key(s3Key(key)).build()).toList();
            DeleteObjectsResponse response;
            try {
                response = client.deleteObjects(request -> request.bucket(bucket)
                    .delete(delete -> delete.objects(chunk).quiet(true)));
            } catch (SdkException e) {
                throw storageFailure("deleting", all.get(from) + " and " + (chunk.size() - 1) + " more", e);
            }
            if (response.hasErrors() && !response.errors().isEmpty()) {
                S3Error first = response.errors().get(0);
                String key = first.key() != null && first.key().startsWith(prefix) ? first.key().substring(prefix.length())
                    : first.key();
                throw new StorageException("deleting " + response.errors().size() + " of " + chunk.size()
                    + " objects failed, object " + key + " with " + first.code() + ": " + first.message());
            }
        }
    }

    @Override
    public void close() {
        client.close();
    }

    /** The one map from S3's failures to Weir's. */
    private static StorageException storageFailure(String doing, String key, SdkException e) {
        if (e instanceof NoSuchKeyException
            || (e instanceof S3Exception s3 && s3.statusCode() == HTTP_NOT_FOUND)) {
            return new ObjectMissingException(key, e);
        }
        if (e instanceof S3Exception s3
            && (s3.statusCode() == HTTP_PRECONDITION_FAILED || s3.statusCode() == HTTP_CONFLICT)) {
            return new StorageException("object " + key + " exists already; objects are never overwritten", e);
        }
        return new StorageException(doing + " object " + key + " failed: " + e.getMessage(), e);
    }

    /**
     * An object written in pieces into a local temporary file, then uploaded in one PUT when complete:
     * until then nothing is in the bucket, so an abandoned writer leaves nothing behind.
     */
    private final class Upload implements ObjectWriter {
        private final String key;
        private final Path file;
        private final FileChannel channel;
        private long size;
        private boolean done;

        Upload(String key) {
            this.key = key;
            try {
                this.file = Files.createTempFile("weir-upload-", ".part");
                this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new StorageException("staging object " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void write(ByteBuffer data) {
            try {
                while (data.hasRemaining()) {
                    size += channel.write(data, size);
                }
            } catch (IOException e) {
                throw new StorageException("staging object " + key + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public void writeFrom(String sourceKey, long position, long length) {
            long end = position + length;
            try (InputStream in = client.getObject(request -> request.bucket(bucket).key(s3Key(sourceKey))
                .range("bytes=" + position + "-" + (end - 1)))) {
                byte[] chunk = new byte[64 * 1024];
                long copied = 0;
                for (int read; copied < length && (read = in.read(chunk)) > 0; copied += read) {
                    write(ByteBuffer.wrap(chunk, 0, (int) Math.min(read, length - copied)));
                }
                if (copied < length) {
                    throw new StorageException("object " + sourceKey + " ends before byte " + end);
                }
            } catch (SdkException e) {
                throw storageFailure("copying from", sourceKey, e);
            } catch (IOException e) {
                throw new StorageException("copying from object " + sourceKey + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void complete() {
            put(key, file, size);
            done = true;
        }

        @Override
        public void close() {
            try {
                channel.close();
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new StorageException("removing the staging file of object " + key + " failed (completed: "
                    + done + "): " + e.getMessage(), e);
            }
        }
    }
}
