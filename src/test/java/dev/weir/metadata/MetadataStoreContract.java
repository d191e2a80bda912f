package dev.weir.metadata;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.weir.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MetadataStore} does, role by role (each role's tests are an interface of their own):
 * one small subclass per backend supplies new databases. Each test starts on a new, empty database.
 */
public abstract class MetadataStoreContract implements TopicCatalogContract, CommitContract,
    IdempotentProducerContract, BatchIndexContract, MergeCatalogContract, ObjectCatalogContract, GroupOffsetsContract,
    BrokerRegistryContract {

    /** A database of the backend under test: each call of {@link #open} opens a store on it. */
    protected interface StoreOpener {
        MetadataStore open(Clock clock) throws Exception;

        /** Rows in a table of the database's schema, read past the store. */
        long rowsIn(String table) throws Exception;
    }

    /** A new, empty database. */
    protected abstract StoreOpener newDatabase() throws Exception;

    private final MutableClock clock = new MutableClock(START_MS);
    private StoreOpener database;
    private MetadataStore store;

    @BeforeEach
    final void openStore() throws Exception {
        database = newDatabase();
        store = database.open(clock);
    }

    @AfterEach
    final void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    /**
     * Calls that reach a closed store (a broker shutting down) fail at once with a MetadataException, as a
     * failed database does, instead of waiting for a connection that no one will give back. Closing twice
     * is harmless (the store is closed again after each test).
     */
    @Test
    void aClosedStoreFailsReadsAndWritesInsteadOfWaiting() {
        PartitionKey zero = new PartitionKey(createTopic("orders", 1), 0);
        store.close();

        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertThatThrownBy(store::topics).isInstanceOf(MetadataException.class);
            assertThatThrownBy(() -> store.batchesFrom(zero, 0, 10)).isInstanceOf(MetadataException.class);
            assertThatThrownBy(() -> store.createTopic(new TopicRecord(Uuid.randomUuid(), "payments", 1, Map.of(),
                clock.millis()))).isInstanceOf(MetadataException.class);
        });
    }

    @Override
    public final MetadataStore store() {
        return store;
    }

    @Override
    public final MutableClock clock() {
        return clock;
    }

    @Override
    public final void reopen() throws Exception {
        store.close();
        store = null;
        store = database.open(clock);
    }

    @Override
    public final MetadataStore openAnotherDatabase() throws Exception {
        return newDatabase().open(clock);
    }

    @Override
    public final long rowsIn(String table) throws Exception {
        return database.rowsIn(table);
    }
}
