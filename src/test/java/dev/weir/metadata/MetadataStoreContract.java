package dev.weir.metadata;

import dev.weir.testing.MutableClock;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every {@link MetadataStore} does, role by role (each role's tests are an interface of their own):
 * one small subclass per backend supplies new databases. Each test starts on a new, empty database.
 */
public abstract class MetadataStoreContract implements TopicCatalogContract, CommitContract,
    IdempotentProducerContract, BatchIndexContract, MergeCatalogContract, ObjectCatalogContract, GroupOffsetsContract {

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
