package dev.weir.metadata.postgres;

import static dev.weir.metadata.Batches.idempotent;
import static dev.weir.metadata.Batches.plain;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalWrite;
import dev.weir.testing.FaultyPostgresProxy;
import dev.weir.testing.PostgresProcess;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a commit costs in waits on the database, the cost that bounds the commits of the cluster shape: its
 * round trips, counted on the wire by a proxy between the store and PostgreSQL. Every broker's produce
 * latency has them in it, so a change that adds one should be a choice, not an accident.
 */
class PostgresMetadataStoreRoundTripsTest {
    /** Commits measured of each kind; the fewest round trips among them is the commit's own (see below). */
    private static final int COMMITS = 5;

    @TempDir
    static Path dir;
    private static PostgresProcess postgres;
    private static FaultyPostgresProxy proxy;
    private static int databases;

    private PostgresMetadataStore store;
    private Uuid topicId;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresProcess.start(dir);
        proxy = FaultyPostgresProxy.start(URI.create(postgres.jdbcUrl().substring("jdbc:".length())).getPort());
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @BeforeEach
    void openStore() throws Exception {
        String url = postgres.createDatabase("round_trips_" + ++databases);
        store = new PostgresMetadataStore(proxy.throughProxy(url), PostgresProcess.USER, null, Clock.systemUTC());
        topicId = Uuid.randomUuid();
        store.createTopic(new TopicRecord(topicId, "measured", 3, Map.of(), 0));
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void anObjectOfItsOwnWithIdempotentBatchesToSeveralPartitions() {
        long producerId = store.nextProducerId();
        int roundTrips = fewestRoundTrips(commit -> commitAll(objectOfItsOwn(commit, 400),
            plain(partition(0), 0, 100, 5),
            idempotent(partition(1), 100, producerId, 0, 2 * commit, 1),
            idempotent(partition(1), 200, producerId, 0, 2 * commit + 1, 1),
            idempotent(partition(2), 300, producerId, 0, commit, 1)));
        assertThat(roundTrips).isEqualTo(3);
    }

    @Test
    void anObjectOfItsOwnWithPlainBatches() {
        int roundTrips = fewestRoundTrips(commit -> commitAll(objectOfItsOwn(commit, 200),
            plain(partition(0), 0, 100, 5), plain(partition(2), 100, 100, 5)));
        assertThat(roundTrips).isEqualTo(3);
    }

    @Test
    void anObjectThatExtendsALocalWalFile() {
        long producerId = store.nextProducerId();
        int roundTrips = fewestRoundTrips(commit -> {
            long start = 200L * commit;
            return commitAll(new WalWrite("wal/local", start + 200, commit == 0, true),
                plain(partition(0), start, 100, 5), idempotent(partition(1), start + 100, producerId, 0, commit, 1));
        });
        assertThat(roundTrips).isEqualTo(3);
    }

    /**
     * The fewest round trips that the commits {@code commit(0)} to {@code commit(COMMITS)} took, the first
     * not counted: it may open the pool's connection. The pool checks a connection that was idle for a
     * while with a round trip of its own before it lends it, which a slow moment may bring about; the
     * fewest is the commit's own.
     */
    private int fewestRoundTrips(IntFunction<List<AppendOutcome>> commit) {
        commit.apply(0);
        long fewest = Long.MAX_VALUE;
        for (int i = 1; i <= COMMITS; i++) {
            long before = proxy.roundTrips();
            List<AppendOutcome> outcomes = commit.apply(i);
            fewest = Math.min(fewest, proxy.roundTrips() - before);
            assertThat(outcomes).allSatisfy(outcome -> assertThat(outcome.tookNewOffsets()).isTrue());
        }
        return (int) fewest;
    }

    /** A WAL object in an object of its own, as on S3, which start-up does not replay. */
    private static WalWrite objectOfItsOwn(int commit, long size) {
        return new WalWrite("wal/object-" + commit, size, true, true, false);
    }

    private List<AppendOutcome> commitAll(WalWrite written, BatchAppend... batches) {
        return store.commit(written, List.of(batches));
    }

    private PartitionKey partition(int partition) {
        return new PartitionKey(topicId, partition);
    }
}
