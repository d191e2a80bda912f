package dev.weir.metadata;

import dev.weir.testing.MutableClock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * What the role contracts that make up {@link MetadataStoreContract} share: the store under test, on a
 * new, empty database for each test, its clock, and helpers.
 */
public interface StoreFixture {
    /** The clock's time when a test starts. */
    long START_MS = 1_000_000;

    MetadataStore store();

    MutableClock clock();

    /** Closes the store and opens the same database again, as a broker's restart does. */
    void reopen() throws Exception;

    /** A store on another new database, for the caller to close. */
    MetadataStore openAnotherDatabase() throws Exception;

    /** Rows in a table of the database's schema, read past the store: what its interface cannot show. */
    long rowsIn(String table) throws Exception;

    default Uuid createTopic(String name, int partitions) {
        return createTopic(name, partitions, Map.of());
    }

    default Uuid createTopic(String name, int partitions, Map<String, String> configs) {
        Uuid id = Uuid.randomUuid();
        store().createTopic(new TopicRecord(id, name, partitions, configs, clock().millis()));
        return id;
    }

    default List<AppendOutcome> commit(WalWrite written, BatchAppend... batches) {
        return store().commit(written, List.of(batches));
    }

    default AppendOutcome commitOne(WalWrite written, BatchAppend batch) {
        return store().commit(written, List.of(batch)).get(0);
    }

    default Map<String, String> configsOf(Uuid topicId) {
        return store().topics().stream().filter(topic -> topic.id().equals(topicId)).findFirst().orElseThrow()
            .configs();
    }
}
