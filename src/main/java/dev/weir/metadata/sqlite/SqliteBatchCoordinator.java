package dev.weir.metadata.sqlite;

import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchCoordinator;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.ProducerSequences;
import dev.weir.metadata.WalWrite;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;

/**
 * The batch coordinator on SQLite: commits WAL objects, assigning offsets and checking producers'
 * sequences, and keeps log start offsets and producer ids.
 *
 * <p>Only one process may open the file (the data directory is locked by the broker), so this class
 * keeps the partitions' next offsets and the producers' sequences in memory as the authority and
 * writes every change through in the same transaction that commits it. The topic catalog tells it of
 * partitions created and deleted. Thread-safe: the in-memory state changes only under the database's
 * write monitor.
 */
final class SqliteBatchCoordinator implements BatchCoordinator {
    private final SqliteDatabase database;
    private final Clock clock;
    /** Per partition its log start offset and next offset. */
    private final Map<PartitionKey, long[]> offsets = new ConcurrentHashMap<>();
    private final Map<ProducerKey, ProducerSequences> producers = new HashMap<>();

    private record ProducerKey(long producerId, PartitionKey partition) {
    }

    /** Loads the partitions' offsets and the producers' sequences; the caller reports a failure. */
    SqliteBatchCoordinator(SqliteDatabase database, Clock clock) throws SQLException {
        this.database = database;
        this.clock = clock;
        offsets.putAll(database.initialize(SqliteBatchCoordinator::loadOffsets));
        producers.putAll(database.initialize(SqliteBatchCoordinator::loadProducers));
    }

    private static Map<PartitionKey, long[]> loadOffsets(Connection writer) throws SQLException {
        Map<PartitionKey, long[]> loaded = new HashMap<>();
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery(
                 "SELECT topic_id, partition, log_start_offset, next_offset FROM partitions")) {
            while (rows.next()) {
                PartitionKey key = new PartitionKey(Uuid.fromString(rows.getString(1)), rows.getInt(2));
                loaded.put(key, new long[] {rows.getLong(3), rows.getLong(4)});
            }
        }
        return loaded;
    }

    private static Map<ProducerKey, ProducerSequences> loadProducers(Connection writer) throws SQLException {
        Map<ProducerKey, ProducerSequences> loaded = new HashMap<>();
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery(
                 "SELECT producer_id, topic_id, partition, epoch, batches FROM producer_state")) {
            while (rows.next()) {
                PartitionKey partition = new PartitionKey(Uuid.fromString(rows.getString(2)), rows.getInt(3));
                loaded.put(new ProducerKey(rows.getLong(1), partition),
                    new ProducerSequences(rows.getShort(4), ProducerSequences.decodeEntries(rows.getString(5))));
            }
        }
        return loaded;
    }

    /** Partitions {@code [from, to)} of the topic were created, empty; the caller holds the write monitor. */
    void partitionsCreated(Uuid topicId, int from, int to) {
        assert Thread.holdsLock(database);
        for (int partition = from; partition < to; partition++) {
            offsets.put(new PartitionKey(topicId, partition), new long[] {0, 0});
        }
    }

    /** The topic was deleted with its partitions and producer state; the caller holds the write monitor. */
    void topicDeleted(Uuid topicId) {
        assert Thread.holdsLock(database);
        offsets.keySet().removeIf(key -> key.topicId().equals(topicId));
        producers.keySet().removeIf(key -> key.partition().topicId().equals(topicId));
    }

    /** Whether the partition exists; the caller holds the write monitor for an answer that lasts. */
    boolean hasPartition(PartitionKey partition) {
        return offsets.containsKey(partition);
    }

    @Override
    public Map<PartitionKey, PartitionOffsets> partitionOffsets() {
        Map<PartitionKey, PartitionOffsets> copy = new HashMap<>();
        synchronized (database) {
            offsets.forEach((key, value) -> copy.put(key, new PartitionOffsets(value[0], value[1])));
        }
        return copy;
    }

    @Override
    public List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches) {
        synchronized (database) {
            List<AppendOutcome> outcomes = new ArrayList<>(batches.size());
            Map<PartitionKey, long[]> touched = new LinkedHashMap<>();
            Map<ProducerKey, ProducerSequences> touchedProducers = new LinkedHashMap<>();
            String fileKey = written.fileKey();
            database.write(written.sync(), writer -> {
                recordWalObject(written);
                PreparedStatement insertBatch = database.commitStatement(
                    "INSERT INTO batches (topic_id, partition, base_offset, last_offset, object_key, position, size,"
                        + " max_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
                for (BatchAppend batch : batches) {
                    outcomes.add(assignOffsets(fileKey, batch, touched, touchedProducers, insertBatch));
                }
                insertBatch.executeBatch();
                updatePartitionOffsets(touched);
                updateProducers(touchedProducers);
            });
            touched.forEach((key, value) -> {
                long[] current = offsets.get(key);
                if (current != null) {
                    current[1] = value[1];
                }
            });
            producers.putAll(touchedProducers);
            return outcomes;
        }
    }

    /** Records the WAL file with its first object, or extends it to the end of a later one. */
    private void recordWalObject(WalWrite written) throws SQLException {
        String fileKey = written.fileKey();
        if (written.firstInFile()) {
            PreparedStatement insertObject = database.commitStatement(
                "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)");
            insertObject.setString(1, fileKey);
            insertObject.setLong(2, written.end());
            insertObject.setLong(3, clock.millis());
            insertObject.executeUpdate();
            if (written.replayed()) {
                PreparedStatement lastFile = database.commitStatement("UPDATE cluster SET last_wal_file = ? WHERE id = 1");
                lastFile.setString(1, fileKey);
                lastFile.executeUpdate();
            }
        } else {
            // created_ms becomes the time of the file's latest commit, which is what merging waits on.
            PreparedStatement extend = database.commitStatement(
                "UPDATE objects SET size = ?, created_ms = ?, unreferenced_since_ms = NULL WHERE object_key = ?");
            extend.setLong(1, written.end());
            extend.setLong(2, clock.millis());
            extend.setString(3, fileKey);
            if (extend.executeUpdate() != 1) {
                throw new SQLException("WAL file " + fileKey + " is not recorded (any more)");
            }
        }
    }

    private AppendOutcome assignOffsets(String objectKey, BatchAppend batch, Map<PartitionKey, long[]> touched,
                                        Map<ProducerKey, ProducerSequences> touchedProducers,
                                        PreparedStatement insertBatch) throws SQLException {
        long[] current = offsets.get(batch.partition());
        if (current == null) {
            return AppendOutcome.failed(AppendFailure.PARTITION_DELETED, "The partition was deleted.");
        }
        long[] working = touched.computeIfAbsent(batch.partition(), key -> current.clone());
        ProducerSequences sequences = null;
        if (batch.isIdempotent()) {
            ProducerKey producerKey = new ProducerKey(batch.producerId(), batch.partition());
            sequences = touchedProducers.get(producerKey);
            if (sequences == null) {
                ProducerSequences stored = producers.get(producerKey);
                sequences = stored == null ? null : stored.copy();
            }
            ProducerSequences.Check check = ProducerSequences.check(sequences, batch);
            if (check.isDuplicate()) {
                return AppendOutcome.duplicateOf(check.duplicateOf(), working[0]);
            }
            if (check.failure() != null) {
                return AppendOutcome.failed(check.failure(), check.message());
            }
            if (sequences == null) {
                sequences = new ProducerSequences(batch.producerEpoch(), List.of());
            }
            touchedProducers.put(producerKey, sequences);
        }
        long baseOffset = working[1];
        working[1] = baseOffset + batch.offsetCount();
        if (sequences != null) {
            sequences.record(batch, baseOffset);
        }
        insertBatch.setString(1, batch.partition().topicId().toString());
        insertBatch.setInt(2, batch.partition().partition());
        insertBatch.setLong(3, baseOffset);
        insertBatch.setLong(4, working[1] - 1);
        insertBatch.setString(5, objectKey);
        insertBatch.setLong(6, batch.position());
        insertBatch.setInt(7, batch.size());
        insertBatch.setLong(8, batch.maxTimestamp());
        insertBatch.addBatch();
        return AppendOutcome.appended(baseOffset, working[0]);
    }

    private void updatePartitionOffsets(Map<PartitionKey, long[]> touched) throws SQLException {
        PreparedStatement update = database.commitStatement(
            "UPDATE partitions SET next_offset = ? WHERE topic_id = ? AND partition = ?");
        for (Map.Entry<PartitionKey, long[]> entry : touched.entrySet()) {
            update.setLong(1, entry.getValue()[1]);
            update.setString(2, entry.getKey().topicId().toString());
            update.setInt(3, entry.getKey().partition());
            update.addBatch();
        }
        update.executeBatch();
    }

    private void updateProducers(Map<ProducerKey, ProducerSequences> touchedProducers) throws SQLException {
        PreparedStatement upsert = database.commitStatement(
            "INSERT INTO producer_state (producer_id, topic_id, partition, epoch, batches, updated_ms)"
                + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (producer_id, topic_id, partition)"
                + " DO UPDATE SET epoch = excluded.epoch, batches = excluded.batches, updated_ms = excluded.updated_ms");
        for (Map.Entry<ProducerKey, ProducerSequences> entry : touchedProducers.entrySet()) {
            upsert.setLong(1, entry.getKey().producerId());
            upsert.setString(2, entry.getKey().partition().topicId().toString());
            upsert.setInt(3, entry.getKey().partition().partition());
            upsert.setShort(4, entry.getValue().epoch());
            upsert.setString(5, entry.getValue().encodeEntries());
            upsert.setLong(6, clock.millis());
            upsert.addBatch();
        }
        upsert.executeBatch();
    }

    @Override
    public Optional<String> lastWalFile() {
        return database.read(connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT last_wal_file FROM cluster WHERE id = 1")) {
                return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
            }
        });
    }

    @Override
    public long advanceLogStartOffset(PartitionKey partition, long offset) {
        synchronized (database) {
            long[] current = offsets.get(partition);
            if (current == null) {
                throw new MetadataException("no partition " + partition);
            }
            if (offset > current[1]) {
                throw new IllegalArgumentException("log start offset " + offset + " beyond log end " + current[1]);
            }
            if (offset <= current[0]) {
                return current[0];
            }
            database.write(writer -> {
                try (PreparedStatement update = writer.prepareStatement(
                    "UPDATE partitions SET log_start_offset = ? WHERE topic_id = ? AND partition = ?")) {
                    update.setLong(1, offset);
                    update.setString(2, partition.topicId().toString());
                    update.setInt(3, partition.partition());
                    update.executeUpdate();
                }
                try (PreparedStatement delete = writer.prepareStatement(
                    "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND last_offset < ?")) {
                    delete.setString(1, partition.topicId().toString());
                    delete.setInt(2, partition.partition());
                    delete.setLong(3, offset);
                    delete.executeUpdate();
                }
            });
            current[0] = offset;
            return offset;
        }
    }

    @Override
    public long nextProducerId() {
        long[] id = new long[1];
        database.write(writer -> {
            try (Statement statement = writer.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT next_producer_id FROM cluster WHERE id = 1")) {
                rows.next();
                id[0] = rows.getLong(1);
            }
            try (Statement statement = writer.createStatement()) {
                statement.executeUpdate("UPDATE cluster SET next_producer_id = next_producer_id + 1 WHERE id = 1");
            }
        });
        return id[0];
    }
}
