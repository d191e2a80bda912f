package dev.weir.metadata.postgres;

import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchCoordinator;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.ProducerSequences;
import dev.weir.metadata.WalWrite;
import dev.weir.metadata.postgres.CommitPlan.IndexedBatch;
import dev.weir.metadata.postgres.CommitPlan.ProducerKey;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The batch coordinator on PostgreSQL: every broker commits through the database, so offsets and
 * producer sequences are read and written inside each commit's transaction and never kept in memory.
 * Thread-safe.
 *
 * <p>A commit locks the rows of the partitions it touches in (topic_id, partition) order, then its
 * WAL file's object row, then (for a file's first object) the cluster row. Every other transaction
 * that locks several of these takes them in that order too, so two brokers committing to overlapping
 * partitions wait for each other but never deadlock.
 */
final class PostgresBatchCoordinator implements BatchCoordinator {
    private final Database database;
    private final Clock clock;
    private final CommitNotices notices;

    PostgresBatchCoordinator(Database database, Clock clock, CommitNotices notices) {
        this.database = database;
        this.clock = clock;
        this.notices = notices;
    }

    @Override
    public AutoCloseable followCommits(java.util.function.Consumer<Map<PartitionKey, Long>> listener) {
        return notices.follow(listener, () -> {
            Map<PartitionKey, Long> next = new HashMap<>();
            partitionOffsets().forEach((partition, offsets) -> next.put(partition, offsets.nextOffset()));
            return next;
        });
    }

    @Override
    public Map<PartitionKey, PartitionOffsets> partitionOffsets() {
        return database.read("read partition offsets", connection -> {
            Map<PartitionKey, PartitionOffsets> offsets = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery(
                     "SELECT topic_id, partition, log_start_offset, next_offset FROM partitions")) {
                while (rows.next()) {
                    offsets.put(Rows.partition(rows, 1), new PartitionOffsets(rows.getLong(3), rows.getLong(4)));
                }
            }
            return offsets;
        });
    }

    @Override
    public List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches) {
        return database.write("commit WAL file " + written.fileKey(), connection -> {
            Map<PartitionKey, PartitionOffsets> partitions = lockPartitions(connection, batches);
            Map<ProducerKey, ProducerSequences> producers = producerStates(connection, batches, partitions);
            recordObject(connection, written);
            CommitPlan plan = CommitPlan.of(batches, partitions, producers);
            insertBatches(connection, written.fileKey(), plan.indexed());
            updateNextOffsets(connection, plan.nextOffsets());
            notices.send(connection, plan.nextOffsets());
            upsertProducers(connection, plan.producers());
            if (written.firstInFile() && written.replayed()) {
                // Last: the one row that commits of every broker may share, held for the shortest time.
                try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE cluster SET last_wal_file = ? WHERE id = 1")) {
                    update.setString(1, written.fileKey());
                    update.executeUpdate();
                }
            }
            return plan.outcomes();
        });
    }

    /** Locks the rows of the batches' partitions in key order; returns the offsets of those that exist. */
    private static Map<PartitionKey, PartitionOffsets> lockPartitions(Connection connection, List<BatchAppend> batches)
        throws SQLException {
        Set<PartitionKey> touched = new LinkedHashSet<>();
        for (BatchAppend batch : batches) {
            touched.add(batch.partition());
        }
        Map<PartitionKey, PartitionOffsets> partitions = new HashMap<>();
        if (touched.isEmpty()) {
            return partitions;
        }
        Array[] keys = Rows.partitionArrays(connection, touched);
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT topic_id, partition, log_start_offset, next_offset FROM partitions"
                + " WHERE (topic_id, partition) IN (SELECT * FROM unnest(?::uuid[], ?::integer[]))"
                + " ORDER BY topic_id, partition FOR UPDATE")) {
            select.setArray(1, keys[0]);
            select.setArray(2, keys[1]);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    partitions.put(Rows.partition(rows, 1), new PartitionOffsets(rows.getLong(3), rows.getLong(4)));
                }
            }
        }
        return partitions;
    }

    /**
     * The stored states of the idempotent producers writing to the partitions; read after the partitions'
     * locks are held, which every writer of a producer's state holds too, so nothing changes them meanwhile.
     */
    private static Map<ProducerKey, ProducerSequences> producerStates(Connection connection, List<BatchAppend> batches,
                                                                      Map<PartitionKey, PartitionOffsets> partitions)
        throws SQLException {
        Set<ProducerKey> keys = new LinkedHashSet<>();
        for (BatchAppend batch : batches) {
            if (batch.isIdempotent() && partitions.containsKey(batch.partition())) {
                keys.add(new ProducerKey(batch.producerId(), batch.partition()));
            }
        }
        Map<ProducerKey, ProducerSequences> states = new HashMap<>();
        if (keys.isEmpty()) {
            return states;
        }
        Object[] producerIds = keys.stream().map(ProducerKey::producerId).toArray();
        Array[] partitionKeys = Rows.partitionArrays(connection, keys.stream().map(ProducerKey::partition).toList());
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT producer_id, topic_id, partition, epoch, batches FROM producer_state"
                + " WHERE (producer_id, topic_id, partition) IN (SELECT * FROM unnest(?::bigint[], ?::uuid[], ?::integer[]))")) {
            select.setArray(1, connection.createArrayOf("bigint", producerIds));
            select.setArray(2, partitionKeys[0]);
            select.setArray(3, partitionKeys[1]);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    states.put(new ProducerKey(rows.getLong(1), Rows.partition(rows, 2)),
                        new ProducerSequences(rows.getShort(4), ProducerSequences.decodeEntries(rows.getString(5))));
                }
            }
        }
        return states;
    }

    /**
     * Records the WAL file (its first object) or extends it to the object's end; extending fails, and
     * with it the commit, when the file is no longer recorded.
     */
    private void recordObject(Connection connection, WalWrite written) throws SQLException {
        if (written.firstInFile()) {
            try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)")) {
                insert.setString(1, written.fileKey());
                insert.setLong(2, written.end());
                insert.setLong(3, clock.millis());
                insert.executeUpdate();
            }
            return;
        }
        // created_ms becomes the time of the file's latest commit, which is what merging waits on.
        try (PreparedStatement extend = connection.prepareStatement(
            "UPDATE objects SET size = ?, created_ms = ?, unreferenced_since_ms = NULL WHERE object_key = ?")) {
            extend.setLong(1, written.end());
            extend.setLong(2, clock.millis());
            extend.setString(3, written.fileKey());
            if (extend.executeUpdate() != 1) {
                throw new MetadataException("WAL file " + written.fileKey() + " is not recorded (any more)");
            }
        }
    }

    private static void insertBatches(Connection connection, String objectKey, List<IndexedBatch> indexed)
        throws SQLException {
        if (indexed.isEmpty()) {
            return;
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO batches (topic_id, partition,"
            + " base_offset, last_offset, object_key, position, size, max_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (IndexedBatch row : indexed) {
                BatchAppend batch = row.batch();
                Rows.setPartition(insert, 1, batch.partition());
                insert.setLong(3, row.baseOffset());
                insert.setLong(4, row.lastOffset());
                insert.setString(5, objectKey);
                insert.setLong(6, batch.position());
                insert.setInt(7, batch.size());
                insert.setLong(8, batch.maxTimestamp());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static void updateNextOffsets(Connection connection, Map<PartitionKey, Long> nextOffsets)
        throws SQLException {
        if (nextOffsets.isEmpty()) {
            return;
        }
        try (PreparedStatement update = connection.prepareStatement(
            "UPDATE partitions SET next_offset = ? WHERE topic_id = ? AND partition = ?")) {
            for (Map.Entry<PartitionKey, Long> entry : nextOffsets.entrySet()) {
                update.setLong(1, entry.getValue());
                Rows.setPartition(update, 2, entry.getKey());
                update.addBatch();
            }
            update.executeBatch();
        }
    }

    private void upsertProducers(Connection connection, Map<ProducerKey, ProducerSequences> producers)
        throws SQLException {
        if (producers.isEmpty()) {
            return;
        }
        try (PreparedStatement upsert = connection.prepareStatement(
            "INSERT INTO producer_state (producer_id, topic_id, partition, epoch, batches, updated_ms)"
                + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (producer_id, topic_id, partition)"
                + " DO UPDATE SET epoch = excluded.epoch, batches = excluded.batches, updated_ms = excluded.updated_ms")) {
            long nowMs = clock.millis();
            for (Map.Entry<ProducerKey, ProducerSequences> entry : producers.entrySet()) {
                upsert.setLong(1, entry.getKey().producerId());
                Rows.setPartition(upsert, 2, entry.getKey().partition());
                upsert.setShort(4, entry.getValue().epoch());
                upsert.setString(5, entry.getValue().encodeEntries());
                upsert.setLong(6, nowMs);
                upsert.addBatch();
            }
            upsert.executeBatch();
        }
    }

    @Override
    public Optional<String> lastWalFile() {
        return database.read("read the last WAL file", connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT last_wal_file FROM cluster WHERE id = 1")) {
                return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
            }
        });
    }

    @Override
    public long advanceLogStartOffset(PartitionKey partition, long offset) {
        return database.write("advance the log start offset of " + partition, connection -> {
            long start;
            long next;
            try (PreparedStatement select = connection.prepareStatement("SELECT log_start_offset, next_offset"
                + " FROM partitions WHERE topic_id = ? AND partition = ? FOR UPDATE")) {
                Rows.setPartition(select, 1, partition);
                try (ResultSet rows = select.executeQuery()) {
                    if (!rows.next()) {
                        throw new MetadataException("no partition " + partition);
                    }
                    start = rows.getLong(1);
                    next = rows.getLong(2);
                }
            }
            if (offset > next) {
                throw new IllegalArgumentException("log start offset " + offset + " beyond log end " + next);
            }
            if (offset <= start) {
                return start;
            }
            try (PreparedStatement update = connection.prepareStatement(
                "UPDATE partitions SET log_start_offset = ? WHERE topic_id = ? AND partition = ?");
                 PreparedStatement delete = connection.prepareStatement(
                     "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND last_offset < ?")) {
                update.setLong(1, offset);
                Rows.setPartition(update, 2, partition);
                update.executeUpdate();
                Rows.setPartition(delete, 1, partition);
                delete.setLong(3, offset);
                delete.executeUpdate();
            }
            return offset;
        });
    }

    @Override
    public long nextProducerId() {
        return database.write("hand out a producer id", connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT nextval('producer_ids')")) {
                rows.next();
                return rows.getLong(1);
            }
        });
    }
}
