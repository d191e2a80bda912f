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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
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
 *
 * <p>Every produce request waits for a commit, so a commit costs three round trips to the database,
 * whatever it holds: one {@link Pipeline} takes the locks and then reads what is decided under them, a
 * second makes every change in the order above (each statement with all its rows at once, as arrays),
 * and the third is the COMMIT.
 */
final class PostgresBatchCoordinator implements BatchCoordinator {
    private final Database database;
    private final Clock clock;
    private final CommitNotices notices;
    /** Moves of a log start offset are catalog changes for the other brokers. */
    private final PostgresDialect dialect;

    PostgresBatchCoordinator(Database database, Clock clock, CommitNotices notices, PostgresDialect dialect) {
        this.database = database;
        this.clock = clock;
        this.notices = notices;
        this.dialect = dialect;
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
            Locked locked = lockAndRead(connection, batches);
            CommitPlan plan = CommitPlan.of(batches, locked.partitions(), locked.producers());
            long nowMs = clock.millis();
            Pipeline writes = new Pipeline();
            recordObject(writes, written, nowMs);
            insertBatches(writes, written.fileKey(), plan.indexed());
            updateNextOffsets(writes, plan.nextOffsets());
            notices.send(writes, plan.nextOffsets());
            upsertProducers(writes, plan.producers(), nowMs);
            if (written.firstInFile() && written.replayed()) {
                // Last: the one row that commits of every broker may share, held for the shortest time.
                writes.update("UPDATE cluster SET last_wal_file = ? WHERE id = 1",
                    parameters -> parameters.setString(written.fileKey()));
            }
            writes.run(connection);
            return plan.outcomes();
        });
    }

    /** What a commit read under its partitions' locks: the offsets of those that exist, and the producers' states. */
    private record Locked(Map<PartitionKey, PartitionOffsets> partitions,
                          Map<ProducerKey, ProducerSequences> producers) {
    }

    /**
     * Locks the rows of the batches' partitions in key order and reads their offsets, then the stored
     * states of the idempotent producers writing to them: read after the locks are held, which every
     * writer of a producer's state holds too, so nothing changes them until the commit ends.
     */
    private static Locked lockAndRead(Connection connection, List<BatchAppend> batches) throws SQLException {
        Set<PartitionKey> touched = new LinkedHashSet<>();
        Set<ProducerKey> producerKeys = new LinkedHashSet<>();
        for (BatchAppend batch : batches) {
            touched.add(batch.partition());
            if (batch.isIdempotent()) {
                producerKeys.add(new ProducerKey(batch.producerId(), batch.partition()));
            }
        }
        Locked locked = new Locked(new HashMap<>(), new HashMap<>());
        if (touched.isEmpty()) {
            return locked;
        }
        Pipeline reads = new Pipeline().query("SELECT topic_id, partition, log_start_offset, next_offset FROM partitions"
                + " WHERE (topic_id, partition) IN (SELECT * FROM unnest(?::uuid[], ?::integer[]))"
                + " ORDER BY topic_id, partition FOR UPDATE",
            parameters -> parameters.setPartitions(touched),
            rows -> {
                while (rows.next()) {
                    locked.partitions().put(Rows.partition(rows, 1),
                        new PartitionOffsets(rows.getLong(3), rows.getLong(4)));
                }
            });
        if (!producerKeys.isEmpty()) {
            reads.query("SELECT producer_id, topic_id, partition, epoch, batches FROM producer_state"
                    + " WHERE (producer_id, topic_id, partition) IN"
                    + " (SELECT * FROM unnest(?::bigint[], ?::uuid[], ?::integer[]))",
                parameters -> parameters.setArray("bigint", producerKeys.stream().map(ProducerKey::producerId).toArray())
                    .setPartitions(producerKeys.stream().map(ProducerKey::partition).toList()),
                rows -> {
                    while (rows.next()) {
                        locked.producers().put(new ProducerKey(rows.getLong(1), Rows.partition(rows, 2)),
                            new ProducerSequences(rows.getShort(4), ProducerSequences.decodeEntries(rows.getString(5))));
                    }
                });
        }
        reads.run(connection);
        return locked;
    }

    /**
     * Records the WAL file (its first object) or extends it to the object's end; extending fails, and
     * with it the commit, when the file is no longer recorded.
     */
    private static void recordObject(Pipeline writes, WalWrite written, long nowMs) {
        if (written.firstInFile()) {
            writes.update("INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)",
                parameters -> parameters.setString(written.fileKey()).setLong(written.end()).setLong(nowMs));
            return;
        }
        // created_ms becomes the time of the file's latest commit, which is what merging waits on.
        writes.update("UPDATE objects SET size = ?, created_ms = ?, unreferenced_since_ms = NULL WHERE object_key = ?",
            parameters -> parameters.setLong(written.end()).setLong(nowMs).setString(written.fileKey()),
            updated -> {
                if (updated != 1) {
                    throw new MetadataException("WAL file " + written.fileKey() + " is not recorded (any more)");
                }
            });
    }

    private static void insertBatches(Pipeline writes, String objectKey, List<IndexedBatch> indexed) {
        if (indexed.isEmpty()) {
            return;
        }
        List<PartitionKey> partitions = new ArrayList<>(indexed.size());
        Object[] baseOffsets = new Object[indexed.size()];
        Object[] lastOffsets = new Object[indexed.size()];
        Object[] positions = new Object[indexed.size()];
        Object[] sizes = new Object[indexed.size()];
        Object[] maxTimestamps = new Object[indexed.size()];
        for (int i = 0; i < indexed.size(); i++) {
            IndexedBatch row = indexed.get(i);
            partitions.add(row.batch().partition());
            baseOffsets[i] = row.baseOffset();
            lastOffsets[i] = row.lastOffset();
            positions[i] = row.batch().position();
            sizes[i] = row.batch().size();
            maxTimestamps[i] = row.batch().maxTimestamp();
        }
        writes.update("INSERT INTO batches (topic_id, partition, base_offset, last_offset, object_key, position, size,"
                + " max_timestamp) SELECT topic_id, partition, base_offset, last_offset, ?::text, position, size,"
                + " max_timestamp FROM unnest(?::uuid[], ?::integer[], ?::bigint[], ?::bigint[], ?::bigint[],"
                + " ?::integer[], ?::bigint[]) AS b (topic_id, partition, base_offset, last_offset, position, size,"
                + " max_timestamp)",
            parameters -> parameters.setString(objectKey).setPartitions(partitions).setArray("bigint", baseOffsets)
                .setArray("bigint", lastOffsets).setArray("bigint", positions).setArray("integer", sizes)
                .setArray("bigint", maxTimestamps));
    }

    private static void updateNextOffsets(Pipeline writes, Map<PartitionKey, Long> nextOffsets) {
        if (nextOffsets.isEmpty()) {
            return;
        }
        writes.update("UPDATE partitions AS p SET next_offset = n.next_offset"
                + " FROM unnest(?::uuid[], ?::integer[], ?::bigint[]) AS n (topic_id, partition, next_offset)"
                + " WHERE p.topic_id = n.topic_id AND p.partition = n.partition",
            parameters -> parameters.setPartitions(nextOffsets.keySet())
                .setArray("bigint", nextOffsets.values().toArray()));
    }

    private static void upsertProducers(Pipeline writes, Map<ProducerKey, ProducerSequences> producers, long nowMs) {
        if (producers.isEmpty()) {
            return;
        }
        List<ProducerKey> keys = new ArrayList<>(producers.keySet());
        Object[] epochs = new Object[keys.size()];
        Object[] entries = new Object[keys.size()];
        for (int i = 0; i < keys.size(); i++) {
            ProducerSequences sequences = producers.get(keys.get(i));
            epochs[i] = sequences.epoch();
            entries[i] = sequences.encodeEntries();
        }
        writes.update("INSERT INTO producer_state (producer_id, topic_id, partition, epoch, batches, updated_ms)"
                + " SELECT producer_id, topic_id, partition, epoch, batches, ?::bigint"
                + " FROM unnest(?::bigint[], ?::uuid[], ?::integer[], ?::smallint[], ?::text[])"
                + " AS s (producer_id, topic_id, partition, epoch, batches)"
                + " ON CONFLICT (producer_id, topic_id, partition)"
                + " DO UPDATE SET epoch = excluded.epoch, batches = excluded.batches, updated_ms = excluded.updated_ms",
            parameters -> parameters.setLong(nowMs)
                .setArray("bigint", keys.stream().map(ProducerKey::producerId).toArray())
                .setPartitions(keys.stream().map(ProducerKey::partition).toList())
                .setArray("smallint", epochs).setArray("text", entries));
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
            dialect.catalogChanged(connection);
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
