package dev.weir.metadata.postgres;

import static dev.weir.metadata.Batches.extend;
import static dev.weir.metadata.Batches.first;
import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalWrite;
import dev.weir.testing.PostgresProcess;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database stopping or dying under a broker: every commit that returned is still there when it is
 * back (fsync is on), and the broker's store commits again once its pool has replaced the connections
 * that died with the server.
 */
class PostgresMetadataStoreRestartTest {
    private static final int COMMITS = 20;

    @TempDir
    Path dir;

    @Test
    void commitsThatReturnedSurviveAKilledServerAndTheStoreCommitsAgainAfterItsRestart() throws Exception {
        try (PostgresProcess postgres = PostgresProcess.start(dir)) {
            String url = postgres.createDatabase("killed");
            try (PostgresMetadataStore store = new PostgresMetadataStore(url, PostgresProcess.USER, null, Clock.systemUTC())) {
                PartitionKey partition = newPartition(store);
                long producerId = commitSome(store, partition);

                postgres.kill();
                postgres.restart();

                try (PostgresMetadataStore restarted = new PostgresMetadataStore(url, PostgresProcess.USER, null,
                    Clock.systemUTC())) {
                    assertThat(restarted.partitionOffsets()).containsOnly(
                        Map.entry(partition, new PartitionOffsets(0, 2 * COMMITS + 1)));
                    assertThat(restarted.batchesFrom(partition, 0, Integer.MAX_VALUE)).hasSize(COMMITS + 1);
                    assertThat(restarted.commit(extend("wal/1", 100L * (COMMITS + 2)),
                        List.of(idempotent(partition, 100L * (COMMITS + 1), producerId, 0, 0, 1))))
                        .containsExactly(AppendOutcome.duplicateOf(2 * COMMITS, 0));
                }
                assertThat(commitRetrying(store, extend("wal/1", 100L * (COMMITS + 3)),
                    plain(partition, 100L * (COMMITS + 2), 100, 1))).isEqualTo(AppendOutcome.appended(2 * COMMITS + 1, 0));
            }
        }
    }

    @Test
    void aStoreCarriesOnAfterTheServerStopsCleanlyAndStartsAgain() throws Exception {
        try (PostgresProcess postgres = PostgresProcess.start(dir)) {
            String url = postgres.createDatabase("stopped");
            try (PostgresMetadataStore store = new PostgresMetadataStore(url, PostgresProcess.USER, null, Clock.systemUTC())) {
                PartitionKey partition = newPartition(store);
                commitSome(store, partition);
                String clusterId = store.clusterId();

                postgres.stop();
                postgres.restart();

                assertThat(commitRetrying(store, extend("wal/1", 100L * (COMMITS + 2)),
                    plain(partition, 100L * (COMMITS + 1), 100, 3))).isEqualTo(AppendOutcome.appended(2 * COMMITS + 1, 0));
                assertThat(store.partitionOffsets()).containsOnly(
                    Map.entry(partition, new PartitionOffsets(0, 2 * COMMITS + 4)));
                try (PostgresMetadataStore restarted = new PostgresMetadataStore(url, PostgresProcess.USER, null,
                    Clock.systemUTC())) {
                    assertThat(restarted.clusterId()).isEqualTo(clusterId);
                }
            }
        }
    }

    private static PartitionKey newPartition(PostgresMetadataStore store) {
        Uuid topicId = Uuid.randomUuid();
        store.createTopic(new TopicRecord(topicId, "orders", 1, Map.of(), 0));
        return new PartitionKey(topicId, 0);
    }

    /**
     * Commits {@link #COMMITS} objects of a two-record batch each into WAL file "wal/1", then one of an
     * idempotent producer's first batch (one record); returns the producer's id.
     */
    private static long commitSome(PostgresMetadataStore store, PartitionKey partition) {
        for (int commit = 0; commit < COMMITS; commit++) {
            long end = 100L * (commit + 1);
            WalWrite written = commit == 0 ? first("wal/1", end) : extend("wal/1", end);
            assertThat(store.commit(written, List.of(plain(partition, end - 100, 100, 2))))
                .containsExactly(AppendOutcome.appended(2L * commit, 0));
        }
        long producerId = store.nextProducerId();
        assertThat(store.commit(extend("wal/1", 100L * (COMMITS + 1)),
            List.of(idempotent(partition, 100L * COMMITS, producerId, 0, 0, 1))))
            .containsExactly(AppendOutcome.appended(2 * COMMITS, 0));
        return producerId;
    }

    /**
     * Commits one batch, tried again while it fails: each failure on a connection that died with the
     * server drops it from the pool, so at most one try per pooled connection fails.
     */
    private static AppendOutcome commitRetrying(PostgresMetadataStore store, WalWrite written, BatchAppend batch) {
        MetadataException lastFailure = null;
        for (int attempt = 0; attempt <= Database.POOL_SIZE; attempt++) {
            try {
                return store.commit(written, List.of(batch)).get(0);
            } catch (MetadataException e) {
                lastFailure = e;
            }
        }
        throw new AssertionError("no commit succeeded after " + (Database.POOL_SIZE + 1) + " tries", lastFailure);
    }
}
