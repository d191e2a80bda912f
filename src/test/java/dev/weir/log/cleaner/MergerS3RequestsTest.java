package dev.weir.log.cleaner;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.log.Log;
import dev.weir.log.LogSettings;
import dev.weir.log.batch.BatchValidator;
import dev.weir.log.batch.ValidatedBatch;
import dev.weir.log.format.Layout;
import dev.weir.log.policy.TopicLimits;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.sqlite.SqliteMetadataStore;
import dev.weir.storage.CachingObjectStore;
import dev.weir.storage.ObjectStore;
import dev.weir.storage.s3.S3ObjectStore;
import dev.weir.testing.S3ProxyProcess;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * What merging costs in S3 requests, counted as the S3 client sends them to S3 (S3Proxy, a real S3
 * server), for WAL objects of several partitions each, small and large batches: merging reads each WAL
 * object once, however many batches and partitions it holds, when the read cache holds none of them
 * (after a restart, or written by another broker), without a cache, and a window at a time; none at all
 * right after the writes, when the cache holds them; merging segments reads each segment once; garbage
 * collection deletes many objects with one request.
 */
class MergerS3RequestsTest {
    private static final TopicLimits LIMITS = new TopicLimits(1 << 20, TimestampType.CREATE_TIME, Long.MAX_VALUE,
        Long.MAX_VALUE, false);
    private static final int PARTITIONS = 4;
    /** The smallest block the cache may be given: WAL objects span several. */
    private static final int BLOCK_BYTES = 64 * 1024;
    private static final long CACHE_BYTES = 64L << 20;
    private static final int WINDOW_BYTES = 64 << 20;
    /** Index rows of merged segments of at most this many bytes: several per segment. */
    private static final int ROW_BYTES = 4096;
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @TempDir
    static Path s3Dir;
    private static S3ProxyProcess s3;

    @TempDir
    Path dir;
    /** Requests sent, by the name of their class (GetObjectRequest, DeleteObjectsRequest, ...). */
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Uuid topicId = Uuid.randomUuid();
    private String bucket;
    private SqliteMetadataStore metadata;
    private ObjectStore store;
    private Log log;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyProcess.start(s3Dir);
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    @BeforeEach
    void open() {
        bucket = "weir-merge-" + BUCKETS.incrementAndGet();
        try (S3Client client = s3.client()) {
            client.createBucket(request -> request.bucket(bucket));
        }
        metadata = new SqliteMetadataStore(dir.resolve("metadata.db"), Clock.systemUTC());
        openLog();
        metadata.createTopic(new TopicRecord(topicId, "t", PARTITIONS, Map.of(), 0));
        log.partitionsCreated(topicId, 0, PARTITIONS);
    }

    /** A log on the bucket behind a new, empty read cache. */
    private void openLog() {
        openLog(CACHE_BYTES);
    }

    /** A log on the bucket behind a new, empty read cache of {@code cacheBytes}, or none if 0. */
    private void openLog(long cacheBytes) {
        S3Client client = s3.client(new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                requests.computeIfAbsent(kind(context.request()), name -> new AtomicInteger()).incrementAndGet();
            }
        });
        S3ObjectStore s3Store = new S3ObjectStore(client, bucket, "cluster-a/");
        store = cacheBytes == 0 ? s3Store : new CachingObjectStore(s3Store, cacheBytes, BLOCK_BYTES);
        log = new Log(store, metadata, Clock.systemUTC(), 0, new LogSettings(1 << 20, 20, 2, 4L << 20, 10_000, 64, 0, 0),
            timer);
    }

    /** The log on the same bucket and database, as after a restart: a cache of {@code cacheBytes} holds nothing. */
    private void restart(long cacheBytes) {
        log.close();
        store.close();
        openLog(cacheBytes);
    }

    @AfterEach
    void close() {
        log.close();
        store.close();
        metadata.close();
        timer.shutdownNow();
    }

    /** GET of a WAL object or of a segment, PUT, DELETE of one object or of many, or another request's name. */
    private static String kind(SdkRequest request) {
        if (request instanceof GetObjectRequest get) {
            return get.key().contains("/" + Layout.WAL_PREFIX) ? "GET wal" : "GET segment";
        }
        if (request instanceof PutObjectRequest) {
            return "PUT";
        }
        if (request instanceof DeleteObjectRequest) {
            return "DELETE";
        }
        return request instanceof DeleteObjectsRequest ? "DELETE many" : request.getClass().getSimpleName();
    }

    private int sent(String request) {
        AtomicInteger count = requests.get(request);
        return count == null ? 0 : count.get();
    }

    /** A batch of {@code records} records of {@code valueBytes} bytes each. */
    private static ValidatedBatch batch(int records, int valueBytes, int label) {
        SimpleRecord[] values = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            byte[] value = new byte[valueBytes];
            ByteBuffer.wrap(value).putInt(label).putInt(i);
            values[i] = new SimpleRecord(System.currentTimeMillis(), null, value);
        }
        return BatchValidator.validate(MemoryRecords.withRecords(Compression.NONE, values), LIMITS,
            System.currentTimeMillis());
    }

    /**
     * Appends {@code rounds} rounds of batches, each round small and large batches of every partition
     * appended together and then awaited, so that WAL objects hold batches of all the partitions.
     */
    private void produce(int rounds) {
        int label = 0;
        for (int round = 0; round < rounds; round++) {
            List<CompletableFuture<AppendOutcome>> appended = new ArrayList<>();
            for (int partition = 0; partition < PARTITIONS; partition++) {
                PartitionKey key = new PartitionKey(topicId, partition);
                for (int i = 0; i < 6; i++) {
                    appended.add(log.append(key, batch(5, 200, label++)));
                }
                // Larger than a WAL batch the merge copies through its buffer (16 KiB).
                appended.add(log.append(key, batch(20, 1024, label++)));
            }
            appended.forEach(CompletableFuture::join);
        }
    }

    /** Every partition's records as a fetch reads them. */
    private List<ByteBuffer> readAll() {
        List<ByteBuffer> read = new ArrayList<>();
        for (int partition = 0; partition < PARTITIONS; partition++) {
            read.add(log.read(new PartitionKey(topicId, partition), 0, 64 << 20, true).records().buffer());
        }
        return read;
    }

    private List<String> walObjects() {
        return metadata.committedObjectKeys().stream().filter(key -> key.startsWith(Layout.WAL_PREFIX)).toList();
    }

    private Merger merger(int windowBytes) {
        return new Merger(log, Clock.systemUTC(), ROW_BYTES, Double.MAX_VALUE, 512 * 1024, windowBytes);
    }

    /** Merges everything and returns the segments written, printing the requests it sent. */
    private int mergeOnce(Merger merger, String what) {
        requests.clear();
        int segments = merger.mergeOnce(key -> 1L << 30, key -> false, 0);
        System.out.printf("%s: %d segments written, requests %s%n", what, segments, requests);
        return segments;
    }

    @Test
    void mergingReadsEachWalObjectOnceAndGarbageCollectionDeletesThemTogether() {
        produce(12);
        List<ByteBuffer> before = readAll();
        int walObjects = walObjects().size();
        restart(CACHE_BYTES);

        int segments = mergeOnce(merger(WINDOW_BYTES), "merging " + walObjects + " WAL objects, none cached");
        assertThat(sent("GET wal")).as("GETs merging %d WAL objects", walObjects).isEqualTo(walObjects);
        assertThat(sent("PUT")).as("PUTs: one segment per partition").isEqualTo(segments)
            .isEqualTo(PARTITIONS);
        assertThat(requests.keySet()).as("requests merging").containsOnly("GET wal", "PUT");
        assertThat(readAll()).as("records after merging").isEqualTo(before);

        requests.clear();
        assertThat(log.collectGarbage(System.currentTimeMillis() + 1, 0)).isEqualTo(walObjects);
        System.out.printf("garbage collection of %d objects: requests %s%n", walObjects, requests);
        assertThat(requests.keySet()).as("requests collecting garbage").containsOnly("DELETE many");
        assertThat(sent("DELETE many")).as("DELETE requests").isEqualTo(1);
        assertThat(walObjects()).isEmpty();
        assertThat(readAll()).as("records after garbage collection").isEqualTo(before);
    }

    @Test
    void withoutACacheMergingStillReadsEachWalObjectOnce() {
        produce(12);
        List<ByteBuffer> before = readAll();
        int walObjects = walObjects().size();
        restart(0);

        mergeOnce(merger(WINDOW_BYTES), "merging " + walObjects + " WAL objects, no cache");
        assertThat(sent("GET wal")).as("GETs merging %d WAL objects", walObjects).isEqualTo(walObjects);
        assertThat(readAll()).as("records after merging").isEqualTo(before);
    }

    @Test
    void aPassLargerThanTheWindowGoesAWindowAtATimeAndStillReadsEachWalObjectOnce() {
        produce(12);
        List<ByteBuffer> before = readAll();
        List<String> objects = walObjects();
        long largest = objects.stream().mapToLong(metadata::objectSize).max().orElseThrow();
        restart(CACHE_BYTES);

        // Room for two of the largest object at a time: several windows.
        int segments = mergeOnce(merger((int) (2 * largest)), "merging " + objects.size() + " WAL objects, two at a time");
        assertThat(sent("GET wal")).as("GETs merging %d WAL objects", objects.size()).isEqualTo(objects.size());
        assertThat(segments).as("segments: each partition's per window").isGreaterThan(PARTITIONS);
        assertThat(readAll()).as("records after merging").isEqualTo(before);
    }

    @Test
    void mergingRightAfterTheWritesReadsNothingFromS3AndMergingSegmentsReadsEachOnce() {
        Merger merger = merger(WINDOW_BYTES);
        for (int pass = 0; pass < 3; pass++) {
            produce(3);
            mergeOnce(merger, "merging pass " + pass + ", its WAL objects in the cache");
            assertThat(sent("GET wal")).as("GETs of WAL objects the cache holds").isZero();
        }
        produce(3);
        List<ByteBuffer> before = readAll();
        // The fourth segment of each partition makes a run of four small ones, merged into one.
        int segments = mergeOnce(merger, "merging pass 3 and 4 segments of each partition");
        assertThat(segments).isEqualTo(2 * PARTITIONS);
        assertThat(sent("GET wal")).as("GETs of WAL objects the cache holds").isZero();
        assertThat(sent("GET segment")).as("GETs: one per segment merged").isEqualTo(4 * PARTITIONS);
        assertThat(readAll()).as("records after merging").isEqualTo(before);
        for (int partition = 0; partition < PARTITIONS; partition++) {
            assertThat(metadata.segments(new PartitionKey(topicId, partition))).hasSize(1);
            assertThat(metadata.batchesFrom(new PartitionKey(topicId, partition), 0, 1000))
                .as("index rows of at most %d bytes", ROW_BYTES).hasSizeGreaterThan(4);
        }
    }
}
