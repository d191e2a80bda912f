package dev.weir.storage.s3;

import dev.weir.storage.ObjectStore;
import dev.weir.storage.ObjectStoreContract;
import dev.weir.testing.S3ProxyProcess;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/** The object store contract on S3 (S3Proxy, a real S3 server), each test in a bucket and prefix of its own. */
class S3ObjectStoreContractTest extends ObjectStoreContract {
    @TempDir
    static Path dir;
    private static S3ProxyProcess s3;
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyProcess.start(dir);
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    @Override
    protected ObjectStore openEmptyStore() {
        S3Client client = s3.client();
        String bucket = "weir-" + BUCKETS.incrementAndGet();
        client.createBucket(request -> request.bucket(bucket));
        return new S3ObjectStore(client, bucket, "cluster-a/");
    }

    /** As a broker opens it: DeleteObjects goes with the Content-MD5 that S3-compatible servers ask for. */
    @org.junit.jupiter.api.Test
    void aStoreOpenedFromItsUrlDeletesManyObjectsAtOnce() {
        String bucket = "weir-" + BUCKETS.incrementAndGet();
        try (S3Client client = s3.client()) {
            client.createBucket(request -> request.bucket(bucket));
        }
        try (ObjectStore store = S3ObjectStore.open(java.net.URI.create("s3://" + bucket + "/cluster-a"),
            s3.endpoint().toString(), null, true, S3ProxyProcess.ACCESS_KEY, S3ProxyProcess.SECRET_KEY)) {
            store.put("wal/1", java.nio.ByteBuffer.wrap(new byte[] {1}));
            store.put("wal/2", java.nio.ByteBuffer.wrap(new byte[] {2}));
            store.deleteAll(java.util.List.of("wal/1", "wal/2", "wal/3"));
            org.assertj.core.api.Assertions.assertThat(store.list("")).isEmpty();
        }
    }

    @org.junit.jupiter.api.Test
    void aPutOfTheSameBytesAgainIsTakenAsItsOwnEarlierAttemptThatLanded() throws Exception {
        try (ObjectStore store = openEmptyStore()) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap("landed".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            store.put("wal/1", bytes);
            store.put("wal/1", bytes);
            org.assertj.core.api.Assertions.assertThat(store.size("wal/1")).isEqualTo(6);
        }
    }
}
