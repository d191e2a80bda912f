package dev.weir.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.storage.CachingObjectStore;
import dev.weir.storage.ObjectMissingException;
import dev.weir.storage.StorageException;
import dev.weir.testing.S3ProxyProcess;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * What the read cache saves, counted as GET requests that the S3 client sends to S3 (S3Proxy): none for
 * a read of an object just put through it, one per block for a reader walking through an object in small
 * ranges, one for concurrent misses of one block, one DELETE per thousand objects deleted together; and
 * what it must not do: hold more than its bound, or serve a deleted object.
 */
class CachingObjectStoreTest {
    private static final int BLOCK_BYTES = 64 * 1024;
    /** Room for four blocks. */
    private static final long SMALL_BOUND = 4L * (BLOCK_BYTES + CachingObjectStore.ENTRY_OVERHEAD_BYTES);
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @TempDir
    static Path dir;
    private static S3ProxyProcess s3;

    private final AtomicInteger gets = new AtomicInteger();
    private final AtomicInteger deletes = new AtomicInteger();
    /** Requests of any kind (GET, HEAD, PUT, LIST, ...). */
    private final AtomicInteger requests = new AtomicInteger();
    /** The store without the cache, for objects written behind its back (by another broker, or before a restart). */
    private S3ObjectStore uncached;
    private CachingObjectStore store;

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3ProxyProcess.start(dir);
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void open(long maxBytes) {
        S3Client client = s3.client(new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                requests.incrementAndGet();
                if (context.request() instanceof GetObjectRequest) {
                    gets.incrementAndGet();
                }
                if (context.request() instanceof DeleteObjectRequest || context.request() instanceof DeleteObjectsRequest) {
                    deletes.incrementAndGet();
                }
            }
        });
        String bucket = "weir-cache-" + BUCKETS.incrementAndGet();
        client.createBucket(request -> request.bucket(bucket));
        uncached = new S3ObjectStore(client, bucket, "cluster-a/");
        store = new CachingObjectStore(uncached, maxBytes, BLOCK_BYTES);
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private byte[] read(long position, int length) {
        ByteBuffer buffer = store.read("segment/1", position, length);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static byte[] range(byte[] bytes, long position, int length) {
        return java.util.Arrays.copyOfRange(bytes, (int) position, (int) position + length);
    }

    @Test
    void anObjectPutThroughTheCacheIsReadWithoutAGet() {
        open(64L * 1024 * 1024);
        byte[] object = randomBytes(5 * BLOCK_BYTES / 2, 1);
        ByteBuffer direct = ByteBuffer.allocateDirect(70_000).put(object, 0, 70_000).flip();
        store.put("wal/1", direct, ByteBuffer.wrap(object, 70_000, object.length - 70_000));

        ByteBuffer whole = ByteBuffer.allocateDirect(object.length);
        store.readInto("wal/1", 0, whole);
        assertThat(whole.flip()).isEqualTo(ByteBuffer.wrap(object));
        for (long position : new long[] {0, BLOCK_BYTES - 10, BLOCK_BYTES, 2L * BLOCK_BYTES + 5}) {
            assertThat(store.read("wal/1", position, 20)).isEqualTo(ByteBuffer.wrap(object, (int) position, 20));
        }
        assertThat(gets).as("GETs for reads of an object just put").hasValue(0);
    }

    @Test
    void aReaderWalkingThroughAnObjectInSmallRangesMakesOneGetPerBlock() {
        open(64L * 1024 * 1024);
        byte[] object = randomBytes(16 * BLOCK_BYTES + 100, 2);
        uncached.put("segment/1", ByteBuffer.wrap(object));
        int ranges = 0;
        for (long position = 0; position < object.length; position += 1000, ranges++) {
            int length = (int) Math.min(1000, object.length - position);
            assertThat(read(position, length)).isEqualTo(range(object, position, length));
        }
        assertThat(gets).as("GETs for %d reads of 1000 bytes through 17 blocks", ranges).hasValue(17);
    }

    @Test
    void aLargeReadFetchesItsMissingBlocksWithOneGet() {
        open(64L * 1024 * 1024);
        byte[] object = randomBytes(16 * BLOCK_BYTES + 100, 3);
        uncached.put("segment/1", ByteBuffer.wrap(object));
        assertThat(read(100, 5 * BLOCK_BYTES)).isEqualTo(range(object, 100, 5 * BLOCK_BYTES));
        assertThat(gets).as("GETs for a read of 6 missing blocks").hasValue(1);
        assertThat(read(0, object.length)).isEqualTo(object);
        assertThat(gets).as("GETs for a read of 6 cached blocks, then 11 missing ones").hasValue(2);
    }

    @Test
    void aReadAtMostLearnsWhereTheObjectEndsWithoutAskingItsSize() {
        open(64L * 1024 * 1024);
        byte[] object = randomBytes(100, 4);
        uncached.put("cluster/id", ByteBuffer.wrap(object));
        int before = requests.get();
        ByteBuffer buffer = ByteBuffer.allocate(1024);
        assertThat(store.readAtMost("cluster/id", 0, buffer)).isEqualTo(100);
        assertThat(buffer.flip()).isEqualTo(ByteBuffer.wrap(object));
        assertThatThrownBy(() -> store.readAtMost("cluster/other", 0, ByteBuffer.allocate(1024)))
            .isInstanceOf(ObjectMissingException.class);
        assertThat(requests.get() - before).as("requests for a read of an object, and of one that is missing")
            .isEqualTo(2);
    }

    @Test
    void theCacheHoldsNoMoreThanItsBoundAndEvictsWhatWasReadLongest() {
        open(SMALL_BOUND);
        byte[] object = randomBytes(16 * BLOCK_BYTES, 4);
        uncached.put("segment/1", ByteBuffer.wrap(object));
        long mostHeld = 0;
        for (long position = 0; position < object.length; position += 4096) {
            assertThat(read(position, 4096)).isEqualTo(range(object, position, 4096));
            mostHeld = Math.max(mostHeld, store.cachedBytes());
        }
        assertThat(mostHeld).isLessThanOrEqualTo(SMALL_BOUND).isGreaterThanOrEqualTo(3L * BLOCK_BYTES);
        assertThat(gets).as("GETs for 16 blocks read in 4 KiB ranges, 4 of them cached at most").hasValue(16);

        assertThat(read(0, 4096)).isEqualTo(range(object, 0, 4096));
        assertThat(gets).as("the first block was evicted").hasValue(17);
        assertThat(read(15L * BLOCK_BYTES, 4096)).isEqualTo(range(object, 15L * BLOCK_BYTES, 4096));
        assertThat(gets).as("the last block is still cached").hasValue(17);
    }

    @Test
    void aDeletedObjectIsNotServedFromTheCache() {
        open(64L * 1024 * 1024);
        store.put("segment/1", ByteBuffer.wrap(randomBytes(3 * BLOCK_BYTES, 5)));
        uncached.put("segment/2", ByteBuffer.wrap(randomBytes(BLOCK_BYTES, 6)));
        read(0, 10);
        store.read("segment/2", 0, 10);
        assertThat(gets).hasValue(1);

        store.delete("segment/1");
        store.delete("segment/2");
        assertThatThrownBy(() -> read(0, 10)).isInstanceOf(StorageException.class).hasMessageContaining("missing");
        assertThatThrownBy(() -> store.read("segment/2", 0, 10)).isInstanceOf(StorageException.class)
            .hasMessageContaining("missing");
        assertThat(gets).as("both reads after the deletions went to S3").hasValue(3);
        assertThat(store.cachedBytes()).isZero();
    }

    @Test
    void objectsDeletedTogetherCostOneRequestPerThousandAndLeaveNoBlocks() {
        open(64L * 1024 * 1024);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1001; i++) {
            keys.add("wal/" + i);
        }
        // Deleting a missing object is no failure: three of the thousand and one are enough to see them go.
        for (int i : new int[] {0, 999, 1000}) {
            store.put("wal/" + i, ByteBuffer.wrap(new byte[] {(byte) i}));
        }
        assertThat(store.cachedBytes()).isPositive();
        store.deleteAll(keys);
        assertThat(deletes).as("DELETE requests for 1001 objects").hasValue(2);
        assertThat(uncached.list("wal/")).isEmpty();
        assertThat(store.cachedBytes()).isZero();
    }

    @Test
    void concurrentMissesOfOneBlockMakeOneGet() throws Exception {
        open(64L * 1024 * 1024);
        byte[] object = randomBytes(BLOCK_BYTES, 7);
        uncached.put("segment/1", ByteBuffer.wrap(object));
        int readers = 8;
        CyclicBarrier start = new CyclicBarrier(readers);
        ExecutorService threads = Executors.newFixedThreadPool(readers);
        try {
            List<Future<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                long position = i * 1000L;
                reads.add(threads.submit(() -> {
                    start.await();
                    return read(position, 1000);
                }));
            }
            for (int i = 0; i < readers; i++) {
                assertThat(reads.get(i).get()).isEqualTo(range(object, i * 1000L, 1000));
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(gets).as("GETs for %d readers missing one block at once", readers).hasValue(1);
    }
}
