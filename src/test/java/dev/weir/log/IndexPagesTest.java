package dev.weir.log;

import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.SegmentRecord;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.sqlite.SqliteMetadataStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pages of the batch index kept for catch-up reads, over a real SQLite metadata store: every answer
 * is the database's, and the database is asked once per page while the page is fresh and the index
 * unchanged by this broker.
 */
class IndexPagesTest {
    private static final Duration TTL = Duration.ofSeconds(10);
    /** Batches committed: batch {@code i} holds offsets {@code 2i} and {@code 2i + 1}. */
    private static final int BATCHES = 1000;

    @TempDir
    Path dir;
    private SqliteMetadataStore store;
    private PartitionKey partition;
    private final AtomicInteger queries = new AtomicInteger();
    private final AtomicLong nanos = new AtomicLong();

    @BeforeEach
    void fillTheIndex() {
        store = new SqliteMetadataStore(dir.resolve("metadata.db"), Clock.systemUTC());
        Uuid topic = Uuid.randomUuid();
        store.createTopic(new TopicRecord(topic, "history", 1, java.util.Map.of(), 0));
        partition = new PartitionKey(topic, 0);
        commit(0, BATCHES);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void commit(int fromBatch, int toBatch) {
        List<BatchAppend> batches = new ArrayList<>();
        for (int i = fromBatch; i < toBatch; i++) {
            batches.add(plain(partition, 100L * (i - fromBatch), 100, 2));
        }
        store.commit(first("wal/" + fromBatch, 100L * (toBatch - fromBatch)), batches);
    }

    private IndexPages pages(long maxBytes) {
        return new IndexPages((key, offset, max) -> {
            queries.incrementAndGet();
            return store.batchesFrom(key, offset, max);
        }, maxBytes, TTL, nanos::get);
    }

    @Test
    void aReaderCatchingUpAsksTheDatabaseOncePerPageAndGetsItsAnswers() {
        IndexPages pages = pages(1 << 20);
        for (long offset = 0; offset < 2L * BATCHES - 16; offset += 5) {
            List<BatchLocation> found = pages.from(partition, offset, 8);
            assertThat(found).as("rows from offset %d", offset).isEqualTo(store.batchesFrom(partition, offset, 8));
        }
        // 1000 rows in pages of 256: four pages.
        assertThat(queries).hasValue(4);
        // A read past the last page's end looks for rows after it, and finds the end of the index.
        assertThat(pages.from(partition, 1990, 8)).isEqualTo(store.batchesFrom(partition, 1990, 8)).hasSize(5);
        assertThat(queries).hasValue(5);
    }

    @Test
    void aReadCrossingPagesGetsEveryRowItAsksFor() {
        IndexPages pages = pages(1 << 20);
        pages.from(partition, 0, 1);
        assertThat(pages.from(partition, 500, 300)).isEqualTo(store.batchesFrom(partition, 500, 300));
        assertThat(pages.from(partition, 0, 2 * BATCHES)).hasSize(BATCHES);
    }

    @Test
    void anIndexThatGrewPastAShortPageIsReadOnFromTheDatabase() {
        IndexPages pages = pages(1 << 20);
        assertThat(pages.from(partition, 1990, 100)).hasSize(5);
        commit(BATCHES, BATCHES + 10);
        assertThat(pages.from(partition, 2000, 100)).isEqualTo(store.batchesFrom(partition, 2000, 100)).hasSize(10);
        assertThat(pages.from(partition, 1990, 100)).as("across the short page and the rows after it")
            .isEqualTo(store.batchesFrom(partition, 1990, 100)).hasSize(15);
    }

    @Test
    void readersAtSeveralPlacesKeepAPageEach() {
        IndexPages pages = pages(1 << 20);
        for (int round = 0; round < 10; round++) {
            pages.from(partition, 10, 4);
            pages.from(partition, 1000, 4);
            pages.from(partition, 1900, 4);
        }
        assertThat(queries).hasValue(3);
    }

    @Test
    void aPageOlderThanItsLifetimeIsReadAgain() {
        IndexPages pages = pages(1 << 20);
        pages.from(partition, 0, 4);
        nanos.addAndGet(TTL.toNanos() - 1);
        pages.from(partition, 8, 4);
        assertThat(queries).hasValue(1);
        nanos.addAndGet(1);
        pages.from(partition, 8, 4);
        assertThat(queries).hasValue(2);
    }

    @Test
    void afterThisBrokerMergesThePagesAreForgottenAndTheNewRowsRead() {
        IndexPages pages = pages(1 << 20);
        assertThat(pages.from(partition, 0, 1).get(0).objectKey()).isEqualTo("wal/0");
        BatchLocation merged = new BatchLocation(0, 99, "segments/1", 0, 5000, 0);
        SegmentRecord segment = new SegmentRecord("segments/1", partition, 0, 99, 5000, 0);
        assertThat(store.replaceBatches(partition, 0, 99, 50, List.of(new NewSegment(segment, List.of(merged))),
            List.of(), List.of())).isTrue();
        assertThat(pages.from(partition, 0, 1).get(0).objectKey()).as("a fresh page, not forgotten").isEqualTo("wal/0");
        pages.forget(partition);
        assertThat(pages.from(partition, 0, 2)).isEqualTo(store.batchesFrom(partition, 0, 2));
        assertThat(pages.from(partition, 0, 1)).containsExactly(merged);
    }

    @Test
    void withoutRoomEveryLookUpAsksTheDatabase() {
        IndexPages pages = pages(0);
        pages.from(partition, 0, 4);
        pages.from(partition, 0, 4);
        assertThat(queries).hasValue(2);
        assertThat(pages.from(partition, 0, 4)).isEqualTo(store.batchesFrom(partition, 0, 4));
    }
}
