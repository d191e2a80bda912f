package dev.weir.metadata.sqlite;

import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.AppendOutcome;
import dev.weir.metadata.BatchAppend;
import dev.weir.metadata.BatchLocation;
import dev.weir.metadata.CommittedOffset;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.MetadataStore;
import dev.weir.metadata.NewSegment;
import dev.weir.metadata.PartitionKey;
import dev.weir.metadata.PartitionOffsets;
import dev.weir.metadata.ProducerSequences;
import dev.weir.metadata.SegmentRecord;
import dev.weir.metadata.WalFileUse;
import dev.weir.metadata.TopicExistsException;
import dev.weir.metadata.TopicRecord;
import dev.weir.metadata.WalWrite;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;

/**
 * The embedded metadata database of a single node: one SQLite file in WAL mode with
 * {@code synchronous=FULL}, so a commit is on disk when it returns; the commits of WAL objects may
 * ask for {@code NORMAL} instead (see {@link #commit}).
 *
 * <p>Only one process may open the file (the data directory is locked by the broker), so this class
 * keeps the partitions' next offsets and the producers' sequences in memory as the authority and
 * writes every change through in the same transaction that commits it. Writes are serialised on
 * this object's monitor; reads use a small pool of read-only connections and run concurrently.
 */
public final class SqliteMetadataStore implements MetadataStore {
    private static final int READ_CONNECTIONS = 4;
    private static final long CHECKPOINT_INTERVAL_MS = 1000;

    private final Clock clock;
    private final Connection writer;
    private final Map<String, PreparedStatement> commitStatements = new HashMap<>();
    private final Connection checkpointer;
    private final java.util.concurrent.ScheduledExecutorService checkpoints;
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READ_CONNECTIONS);
    private final String clusterId;
    private final Map<PartitionKey, long[]> offsets = new ConcurrentHashMap<>();
    private final Map<ProducerKey, ProducerSequences> producers = new HashMap<>();
    /** Whether the last checkpoint failed, so that a failing one is logged once until one succeeds. */
    private final java.util.concurrent.atomic.AtomicBoolean checkpointFailing =
        new java.util.concurrent.atomic.AtomicBoolean();
    /** The writer connection's synchronous setting: FULL (true) or NORMAL; guarded by the monitor. */
    private boolean synced = true;

    private record ProducerKey(long producerId, PartitionKey partition) {
    }

    public SqliteMetadataStore(Path file, Clock clock) {
        this.clock = clock;
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration/sqlite")
            .loggers("slf4j").load().migrate();
        try {
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            // Checkpoints run on their own connection and thread (below), not inside a commit that a
            // producer is waiting for; the WAL file is cut back to this size after each.
            config.setPragma(SQLiteConfig.Pragma.WAL_AUTOCHECKPOINT, "0");
            config.setPragma(SQLiteConfig.Pragma.JOURNAL_SIZE_LIMIT, Long.toString(64L * 1024 * 1024));
            config.setBusyTimeout(30_000);
            writer = config.createConnection(url);
            writer.setAutoCommit(false);
            for (int i = 0; i < READ_CONNECTIONS; i++) {
                SQLiteConfig readConfig = new SQLiteConfig();
                readConfig.setReadOnly(true);
                readConfig.setBusyTimeout(30_000);
                readers.add(readConfig.createConnection(url));
            }
            SQLiteConfig checkpointConfig = new SQLiteConfig();
            checkpointConfig.setBusyTimeout(30_000);
            checkpointer = checkpointConfig.createConnection(url);
            checkpoints = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "weir-sqlite-checkpoint");
                thread.setDaemon(true);
                return thread;
            });
            checkpoints.scheduleWithFixedDelay(this::checkpoint, CHECKPOINT_INTERVAL_MS, CHECKPOINT_INTERVAL_MS,
                java.util.concurrent.TimeUnit.MILLISECONDS);
            clusterId = loadOrCreateClusterId();
            loadOffsets();
            loadProducers();
        } catch (SQLException e) {
            throw new MetadataException("cannot open metadata database " + file, e);
        }
    }

    private String loadOrCreateClusterId() throws SQLException {
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery("SELECT cluster_id FROM cluster WHERE id = 1")) {
            if (rows.next()) {
                return rows.getString(1);
            }
        }
        String id = Uuid.randomUuid().toString();
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO cluster (id, cluster_id, next_producer_id) VALUES (1, ?, 0)")) {
            insert.setString(1, id);
            insert.executeUpdate();
        }
        writer.commit();
        return id;
    }

    private void loadOffsets() throws SQLException {
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery(
                 "SELECT topic_id, partition, log_start_offset, next_offset FROM partitions")) {
            while (rows.next()) {
                PartitionKey key = new PartitionKey(Uuid.fromString(rows.getString(1)), rows.getInt(2));
                offsets.put(key, new long[] {rows.getLong(3), rows.getLong(4)});
            }
        }
        writer.commit();
    }

    private void loadProducers() throws SQLException {
        try (Statement statement = writer.createStatement();
             ResultSet rows = statement.executeQuery(
                 "SELECT producer_id, topic_id, partition, epoch, batches FROM producer_state")) {
            while (rows.next()) {
                PartitionKey partition = new PartitionKey(Uuid.fromString(rows.getString(2)), rows.getInt(3));
                producers.put(new ProducerKey(rows.getLong(1), partition),
                    new ProducerSequences(rows.getShort(4), ProducerSequences.decodeEntries(rows.getString(5))));
            }
        }
        writer.commit();
    }

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public List<TopicRecord> topics() {
        return read(connection -> {
            Map<String, Map<String, String>> configs = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, value FROM topic_configs")) {
                while (rows.next()) {
                    configs.computeIfAbsent(rows.getString(1), id -> new HashMap<>()).put(rows.getString(2), rows.getString(3));
                }
            }
            List<TopicRecord> topics = new ArrayList<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT topic_id, name, partitions, created_ms FROM topics")) {
                while (rows.next()) {
                    String id = rows.getString(1);
                    topics.add(new TopicRecord(Uuid.fromString(id), rows.getString(2), rows.getInt(3),
                        configs.getOrDefault(id, Map.of()), rows.getLong(4)));
                }
            }
            return topics;
        });
    }

    @Override
    public synchronized void createTopic(TopicRecord topic) {
        write(() -> {
            try (PreparedStatement exists = writer.prepareStatement("SELECT 1 FROM topics WHERE name = ?")) {
                exists.setString(1, topic.name());
                try (ResultSet rows = exists.executeQuery()) {
                    if (rows.next()) {
                        throw new TopicExistsException(topic.name());
                    }
                }
            }
            try (PreparedStatement insert = writer.prepareStatement(
                "INSERT INTO topics (topic_id, name, partitions, created_ms) VALUES (?, ?, ?, ?)")) {
                insert.setString(1, topic.id().toString());
                insert.setString(2, topic.name());
                insert.setInt(3, topic.partitions());
                insert.setLong(4, topic.createdMs());
                insert.executeUpdate();
            }
            insertConfigs(topic.id(), topic.configs());
            insertPartitions(topic.id(), 0, topic.partitions());
        });
        for (int partition = 0; partition < topic.partitions(); partition++) {
            offsets.put(new PartitionKey(topic.id(), partition), new long[] {0, 0});
        }
    }

    private void insertConfigs(Uuid topicId, Map<String, String> configs) throws SQLException {
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO topic_configs (topic_id, name, value) VALUES (?, ?, ?)")) {
            for (Map.Entry<String, String> config : configs.entrySet()) {
                insert.setString(1, topicId.toString());
                insert.setString(2, config.getKey());
                insert.setString(3, config.getValue());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private void insertPartitions(Uuid topicId, int from, int to) throws SQLException {
        try (PreparedStatement insert = writer.prepareStatement(
            "INSERT INTO partitions (topic_id, partition, log_start_offset, next_offset) VALUES (?, ?, 0, 0)")) {
            for (int partition = from; partition < to; partition++) {
                insert.setString(1, topicId.toString());
                insert.setInt(2, partition);
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @Override
    public synchronized void deleteTopic(Uuid topicId) {
        write(() -> {
            for (String table : List.of("topics", "topic_configs", "partitions", "batches", "producer_state", "segments")) {
                try (PreparedStatement delete = writer.prepareStatement("DELETE FROM " + table + " WHERE topic_id = ?")) {
                    delete.setString(1, topicId.toString());
                    delete.executeUpdate();
                }
            }
        });
        offsets.keySet().removeIf(key -> key.topicId().equals(topicId));
        producers.keySet().removeIf(key -> key.partition().topicId().equals(topicId));
    }

    @Override
    public synchronized void addPartitions(Uuid topicId, int newPartitionCount) {
        int[] oldCount = new int[1];
        write(() -> {
            try (PreparedStatement select = writer.prepareStatement("SELECT partitions FROM topics WHERE topic_id = ?")) {
                select.setString(1, topicId.toString());
                try (ResultSet rows = select.executeQuery()) {
                    if (!rows.next()) {
                        throw new MetadataException("no topic with id " + topicId);
                    }
                    oldCount[0] = rows.getInt(1);
                }
            }
            if (newPartitionCount <= oldCount[0]) {
                throw new MetadataException("partition count can only grow");
            }
            try (PreparedStatement update = writer.prepareStatement("UPDATE topics SET partitions = ? WHERE topic_id = ?")) {
                update.setInt(1, newPartitionCount);
                update.setString(2, topicId.toString());
                update.executeUpdate();
            }
            insertPartitions(topicId, oldCount[0], newPartitionCount);
        });
        for (int partition = oldCount[0]; partition < newPartitionCount; partition++) {
            offsets.put(new PartitionKey(topicId, partition), new long[] {0, 0});
        }
    }

    @Override
    public synchronized void replaceTopicConfigs(Uuid topicId, Map<String, String> configs) {
        write(() -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM topic_configs WHERE topic_id = ?")) {
                delete.setString(1, topicId.toString());
                delete.executeUpdate();
            }
            insertConfigs(topicId, configs);
        });
    }

    @Override
    public Map<PartitionKey, PartitionOffsets> partitionOffsets() {
        Map<PartitionKey, PartitionOffsets> copy = new HashMap<>();
        synchronized (this) {
            offsets.forEach((key, value) -> copy.put(key, new PartitionOffsets(value[0], value[1])));
        }
        return copy;
    }

    @Override
    public synchronized List<AppendOutcome> commit(WalWrite written, List<BatchAppend> batches) {
        List<AppendOutcome> outcomes = new ArrayList<>(batches.size());
        Map<PartitionKey, long[]> touched = new LinkedHashMap<>();
        Map<ProducerKey, ProducerSequences> touchedProducers = new LinkedHashMap<>();
        String fileKey = written.fileKey();
        write(written.sync(), () -> {
            if (written.firstInFile()) {
                PreparedStatement insertObject = commitStatement(
                    "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)");
                insertObject.setString(1, fileKey);
                insertObject.setLong(2, written.end());
                insertObject.setLong(3, clock.millis());
                insertObject.executeUpdate();
                PreparedStatement lastFile = commitStatement("UPDATE cluster SET last_wal_file = ? WHERE id = 1");
                lastFile.setString(1, fileKey);
                lastFile.executeUpdate();
            } else {
                // created_ms becomes the time of the file's latest commit, which is what merging waits on.
                PreparedStatement extend = commitStatement(
                    "UPDATE objects SET size = ?, created_ms = ?, unreferenced_since_ms = NULL WHERE object_key = ?");
                extend.setLong(1, written.end());
                extend.setLong(2, clock.millis());
                extend.setString(3, fileKey);
                if (extend.executeUpdate() != 1) {
                    throw new SQLException("WAL file " + fileKey + " is not recorded (any more)");
                }
            }
            PreparedStatement insertBatch = commitStatement(
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

    /** The commit path's statements, prepared once on the writer connection; the caller holds the monitor. */
    private PreparedStatement commitStatement(String sql) throws SQLException {
        PreparedStatement statement = commitStatements.get(sql);
        if (statement == null) {
            statement = writer.prepareStatement(sql);
            commitStatements.put(sql, statement);
        }
        return statement;
    }

    private void updatePartitionOffsets(Map<PartitionKey, long[]> touched) throws SQLException {
        PreparedStatement update = commitStatement(
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
        PreparedStatement upsert = commitStatement(
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
    public List<BatchLocation> batchesFrom(PartitionKey partition, long offset, int maxBatches) {
        return read(connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            // The batch holding the offset has the largest base offset at or below it; later ones follow.
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT base_offset, last_offset, object_key, position, size, max_timestamp, final_headers FROM batches"
                    + " WHERE topic_id = ?1 AND partition = ?2 AND base_offset >= COALESCE((SELECT MAX(base_offset)"
                    + " FROM batches WHERE topic_id = ?1 AND partition = ?2 AND base_offset <= ?3), ?3)"
                    + " ORDER BY base_offset LIMIT ?4")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, offset);
                select.setInt(4, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        BatchLocation location = location(rows);
                        if (location.lastOffset() >= offset) {
                            batches.add(location);
                        }
                    }
                }
            }
            return batches;
        });
    }

    private static BatchLocation location(ResultSet rows) throws SQLException {
        return new BatchLocation(rows.getLong(1), rows.getLong(2), rows.getString(3), rows.getLong(4),
            rows.getInt(5), rows.getLong(6), rows.getBoolean(7));
    }

    @Override
    public Optional<BatchLocation> firstBatchWithTimestampAtLeast(PartitionKey partition, long timestamp, long fromOffset) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT base_offset, last_offset, object_key, position, size, max_timestamp, final_headers FROM batches"
                    + " WHERE topic_id = ? AND partition = ? AND last_offset >= ? AND max_timestamp >= ?"
                    + " ORDER BY base_offset LIMIT 1")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, fromOffset);
                select.setLong(4, timestamp);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Optional<BatchLocation> batchWithMaxTimestamp(PartitionKey partition, long fromOffset) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT base_offset, last_offset, object_key, position, size, max_timestamp, final_headers FROM batches"
                    + " WHERE topic_id = ? AND partition = ? AND last_offset >= ?"
                    + " ORDER BY max_timestamp DESC, base_offset ASC LIMIT 1")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, fromOffset);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.of(location(rows)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public synchronized long advanceLogStartOffset(PartitionKey partition, long offset) {
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
        write(() -> {
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

    @Override
    public long partitionBytes(PartitionKey partition) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT COALESCE(SUM(size), 0) FROM batches WHERE topic_id = ? AND partition = ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        });
    }

    @Override
    public Optional<String> lastWalFile() {
        return read(connection -> {
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT last_wal_file FROM cluster WHERE id = 1")) {
                return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
            }
        });
    }

    @Override
    public long objectSize(String objectKey) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement("SELECT size FROM objects WHERE object_key = ?")) {
                select.setString(1, objectKey);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : -1L;
                }
            }
        });
    }

    @Override
    public synchronized List<String> unreferencedObjects(long nowMs, long cutoffMs) {
        List<String> deletable = new ArrayList<>();
        write(() -> {
            try (PreparedStatement mark = writer.prepareStatement(
                "UPDATE objects SET unreferenced_since_ms = ? WHERE unreferenced_since_ms IS NULL"
                    + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = objects.object_key)")) {
                mark.setLong(1, nowMs);
                mark.executeUpdate();
            }
            try (PreparedStatement select = writer.prepareStatement(
                "SELECT object_key FROM objects WHERE unreferenced_since_ms <= ?")) {
                select.setLong(1, cutoffMs);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        deletable.add(rows.getString(1));
                    }
                }
            }
        });
        return deletable;
    }

    @Override
    public synchronized boolean forgetObject(String objectKey) {
        int[] deleted = new int[1];
        write(() -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM objects WHERE object_key = ?"
                + " AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.object_key = ?)")) {
                delete.setString(1, objectKey);
                delete.setString(2, objectKey);
                deleted[0] = delete.executeUpdate();
            }
            if (deleted[0] == 1) {
                try (PreparedStatement delete = writer.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                    delete.setString(1, objectKey);
                    delete.executeUpdate();
                }
            }
        });
        return deleted[0] == 1;
    }

    @Override
    public Optional<String> newestObject(String prefix, long createdByMs) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT MAX(object_key) FROM objects WHERE object_key >= ? AND object_key < ? AND created_ms <= ?")) {
                select.setString(1, prefix);
                select.setString(2, prefix + Character.MAX_VALUE);
                select.setLong(3, createdByMs);
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? Optional.ofNullable(rows.getString(1)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public Map<String, Map<PartitionKey, Long>> unmergedBytes(String fromKey, String toKey) {
        return read(connection -> {
            Map<String, Map<PartitionKey, Long>> bytes = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, topic_id, partition, SUM(size) FROM batches WHERE object_key BETWEEN ? AND ?"
                    + " AND final_headers = 0 GROUP BY object_key, topic_id, partition ORDER BY object_key")) {
                select.setString(1, fromKey);
                select.setString(2, toKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        bytes.computeIfAbsent(rows.getString(1), key -> new LinkedHashMap<>()).put(
                            new PartitionKey(Uuid.fromString(rows.getString(2)), rows.getInt(3)), rows.getLong(4));
                    }
                }
            }
            return bytes;
        });
    }

    @Override
    public List<BatchLocation> batchesInObjects(PartitionKey partition, String fromKey, String toKey, long fromOffset,
                                                int maxBatches, boolean withFinalHeaders) {
        return read(connection -> {
            List<BatchLocation> batches = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT base_offset, last_offset, object_key, position, size, max_timestamp, final_headers FROM batches"
                    + " WHERE topic_id = ? AND partition = ? AND base_offset >= ? AND object_key BETWEEN ? AND ?"
                    + (withFinalHeaders ? "" : " AND final_headers = 0") + " ORDER BY base_offset LIMIT ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                select.setLong(3, fromOffset);
                select.setString(4, fromKey);
                select.setString(5, toKey);
                select.setInt(6, maxBatches);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        batches.add(location(rows));
                    }
                }
            }
            return batches;
        });
    }

    @Override
    public List<WalFileUse> objectsWithRowsKeptInPlace(String afterKey, String toKey, int max) {
        return read(connection -> {
            List<WalFileUse> files = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT o.object_key, o.size, o.created_ms,"
                    + " (SELECT COALESCE(SUM(b.size), 0) FROM batches b WHERE b.object_key = o.object_key)"
                    + " FROM objects o WHERE o.object_key > ? AND o.object_key <= ?"
                    + " AND EXISTS (SELECT 1 FROM batches b WHERE b.object_key = o.object_key AND b.final_headers = 1)"
                    + " ORDER BY o.object_key LIMIT ?")) {
                select.setString(1, afterKey);
                select.setString(2, toKey);
                select.setInt(3, max);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        files.add(new WalFileUse(rows.getString(1), rows.getLong(2), rows.getLong(3), rows.getLong(4)));
                    }
                }
            }
            return files;
        });
    }

    @Override
    public Map<PartitionKey, List<BatchLocation>> rowsKeptInPlaceIn(String objectKey) {
        return read(connection -> {
            Map<PartitionKey, List<BatchLocation>> rowsByPartition = new LinkedHashMap<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT base_offset, last_offset, object_key, position, size, max_timestamp, final_headers, topic_id,"
                    + " partition FROM batches WHERE object_key = ? AND final_headers = 1"
                    + " ORDER BY topic_id, partition, base_offset")) {
                select.setString(1, objectKey);
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        PartitionKey partition = new PartitionKey(Uuid.fromString(rows.getString(8)), rows.getInt(9));
                        rowsByPartition.computeIfAbsent(partition, key -> new ArrayList<>()).add(location(rows));
                    }
                }
            }
            return rowsByPartition;
        });
    }

    @Override
    public List<SegmentRecord> segments(PartitionKey partition) {
        return read(connection -> {
            List<SegmentRecord> segments = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT object_key, base_offset, last_offset, size, created_ms FROM segments"
                    + " WHERE topic_id = ? AND partition = ? ORDER BY base_offset")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        segments.add(new SegmentRecord(rows.getString(1), partition, rows.getLong(2), rows.getLong(3),
                            rows.getLong(4), rows.getLong(5)));
                    }
                }
            }
            return segments;
        });
    }

    @Override
    public synchronized boolean replaceBatches(PartitionKey partition, long fromOffset, long toOffset, int expectedRows,
                                               List<NewSegment> segments, List<BatchLocation> keptInPlace,
                                               List<String> replacedSegments) {
        boolean[] replaced = new boolean[1];
        write(() -> {
            try (PreparedStatement delete = writer.prepareStatement(
                "DELETE FROM batches WHERE topic_id = ? AND partition = ? AND base_offset BETWEEN ? AND ?")) {
                delete.setString(1, partition.topicId().toString());
                delete.setInt(2, partition.partition());
                delete.setLong(3, fromOffset);
                delete.setLong(4, toOffset);
                if (delete.executeUpdate() != expectedRows || !offsets.containsKey(partition)) {
                    writer.rollback();
                    return;
                }
            }
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM segments WHERE object_key = ?")) {
                for (String key : replacedSegments) {
                    delete.setString(1, key);
                    delete.addBatch();
                }
                delete.executeBatch();
            }
            for (NewSegment added : segments) {
                insertSegment(added);
            }
            insertRows(partition, keptInPlace);
            replaced[0] = true;
        });
        return replaced[0];
    }

    private void insertSegment(NewSegment added) throws SQLException {
        SegmentRecord segment = added.segment();
        String topicId = segment.partition().topicId().toString();
        try (PreparedStatement object = writer.prepareStatement(
            "INSERT INTO objects (object_key, size, created_ms) VALUES (?, ?, ?)");
             PreparedStatement record = writer.prepareStatement("INSERT INTO segments (object_key, topic_id, partition,"
                 + " base_offset, last_offset, size, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            object.setString(1, segment.objectKey());
            object.setLong(2, segment.size());
            object.setLong(3, segment.createdMs());
            object.executeUpdate();
            record.setString(1, segment.objectKey());
            record.setString(2, topicId);
            record.setInt(3, segment.partition().partition());
            record.setLong(4, segment.baseOffset());
            record.setLong(5, segment.lastOffset());
            record.setLong(6, segment.size());
            record.setLong(7, segment.createdMs());
            record.executeUpdate();
        }
        insertRows(segment.partition(), added.rows());
    }

    /** Inserts index rows of the partition, each marked final_headers as its {@link BatchLocation#finalInObject} says. */
    private void insertRows(PartitionKey partition, List<BatchLocation> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement row = writer.prepareStatement("INSERT INTO batches (topic_id, partition, base_offset,"
            + " last_offset, object_key, position, size, max_timestamp, final_headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (BatchLocation location : rows) {
                row.setString(1, partition.topicId().toString());
                row.setInt(2, partition.partition());
                row.setLong(3, location.baseOffset());
                row.setLong(4, location.lastOffset());
                row.setString(5, location.objectKey());
                row.setLong(6, location.position());
                row.setInt(7, location.size());
                row.setLong(8, location.maxTimestamp());
                row.setBoolean(9, location.finalInObject());
                row.addBatch();
            }
            row.executeBatch();
        }
    }

    @Override
    public long cleanOffset(PartitionKey partition) {
        return read(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT clean_offset FROM partitions WHERE topic_id = ? AND partition = ?")) {
                select.setString(1, partition.topicId().toString());
                select.setInt(2, partition.partition());
                try (ResultSet rows = select.executeQuery()) {
                    return rows.next() ? rows.getLong(1) : 0L;
                }
            }
        });
    }

    @Override
    public synchronized void setCleanOffset(PartitionKey partition, long offset) {
        write(() -> {
            try (PreparedStatement update = writer.prepareStatement(
                "UPDATE partitions SET clean_offset = ? WHERE topic_id = ? AND partition = ?")) {
                update.setLong(1, offset);
                update.setString(2, partition.topicId().toString());
                update.setInt(3, partition.partition());
                update.executeUpdate();
            }
        });
    }

    @Override
    public synchronized long nextProducerId() {
        long[] id = new long[1];
        write(() -> {
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

    @Override
    public synchronized void commitOffsets(String groupId, List<CommittedOffset> offsets) {
        write(() -> {
            try (PreparedStatement upsert = writer.prepareStatement(
                "INSERT INTO group_offsets (group_id, topic, partition, committed_offset, leader_epoch, metadata, commit_ms)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET"
                    + " committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,"
                    + " metadata = excluded.metadata, commit_ms = excluded.commit_ms")) {
                for (CommittedOffset offset : offsets) {
                    upsert.setString(1, groupId);
                    upsert.setString(2, offset.topic());
                    upsert.setInt(3, offset.partition());
                    upsert.setLong(4, offset.offset());
                    upsert.setInt(5, offset.leaderEpoch());
                    upsert.setString(6, offset.metadata());
                    upsert.setLong(7, offset.commitMs());
                    upsert.addBatch();
                }
                upsert.executeBatch();
            }
        });
    }

    @Override
    public Map<String, List<CommittedOffset>> committedOffsets() {
        return read(connection -> {
            Map<String, List<CommittedOffset>> offsets = new HashMap<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT group_id, topic, partition, committed_offset,"
                     + " leader_epoch, metadata, commit_ms FROM group_offsets")) {
                while (rows.next()) {
                    offsets.computeIfAbsent(rows.getString(1), group -> new ArrayList<>()).add(new CommittedOffset(
                        rows.getString(2), rows.getInt(3), rows.getLong(4), rows.getInt(5), rows.getString(6),
                        rows.getLong(7)));
                }
            }
            return offsets;
        });
    }

    @Override
    public synchronized void deleteOffsets(String groupId, List<org.apache.kafka.common.TopicPartition> partitions) {
        write(() -> {
            if (partitions == null) {
                try (PreparedStatement delete = writer.prepareStatement("DELETE FROM group_offsets WHERE group_id = ?")) {
                    delete.setString(1, groupId);
                    delete.executeUpdate();
                }
                return;
            }
            try (PreparedStatement delete = writer.prepareStatement(
                "DELETE FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?")) {
                for (org.apache.kafka.common.TopicPartition partition : partitions) {
                    delete.setString(1, groupId);
                    delete.setString(2, partition.topic());
                    delete.setInt(3, partition.partition());
                    delete.addBatch();
                }
                delete.executeBatch();
            }
        });
    }

    @Override
    public synchronized void deleteOffsetsOfTopic(String topic) {
        write(() -> {
            try (PreparedStatement delete = writer.prepareStatement("DELETE FROM group_offsets WHERE topic = ?")) {
                delete.setString(1, topic);
                delete.executeUpdate();
            }
        });
    }

    @Override
    public Set<String> committedObjectKeys() {
        return read(connection -> {
            Set<String> keys = new HashSet<>();
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT object_key FROM objects")) {
                while (rows.next()) {
                    keys.add(rows.getString(1));
                }
            }
            return keys;
        });
    }

    /**
     * Copies committed pages from the WAL into the database file, so that the next commit can write
     * the WAL from its start again. SQLite starts it over only when a checkpoint has caught up with
     * the last commit, which a checkpoint running beside a steady stream of commits (a producer sending
     * one record at a time commits every millisecond) never does: the WAL then grew by every commit,
     * without bound. So the bulk is copied without blocking anyone, then what was committed meanwhile
     * (a few pages, or none) while commits wait.
     */
    void checkpoint() {
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SqliteMetadataStore.class);
        try (Statement statement = checkpointer.createStatement()) {
            statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
            synchronized (this) {
                statement.execute("PRAGMA wal_checkpoint(PASSIVE)");
            }
            if (checkpointFailing.compareAndSet(true, false)) {
                log.info("SQLite checkpoints succeed again");
            }
        } catch (SQLException e) {
            // A full disk fails every checkpoint until room is freed: said once, not every second.
            if (checkpointFailing.compareAndSet(false, true)) {
                log.warn("SQLite checkpoint failed; it is retried every second, and said again once it succeeds", e);
            } else {
                log.debug("SQLite checkpoint failed again", e);
            }
        }
    }

    @Override
    public void close() {
        checkpoints.shutdownNow();
        try {
            checkpoints.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            checkpointer.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            throw new MetadataException("closing the metadata database failed", e);
        }
        synchronized (this) {
            try {
                for (PreparedStatement statement : commitStatements.values()) {
                    statement.close();
                }
                writer.close();
            } catch (SQLException e) {
                throw new MetadataException("closing the metadata database failed", e);
            }
        }
        Connection reader;
        while ((reader = readers.poll()) != null) {
            try {
                reader.close();
            } catch (SQLException e) {
                throw new MetadataException("closing the metadata database failed", e);
            }
        }
    }

    private interface SqlWork {
        void run() throws SQLException;
    }

    private interface SqlRead<T> {
        T apply(Connection connection) throws SQLException;
    }

    /** Runs the work in one transaction on the writer connection, synced; the caller holds the monitor. */
    private void write(SqlWork work) {
        write(true, work);
    }

    /**
     * Runs the work in one transaction on the writer connection; the caller holds the monitor. With
     * {@code sync} the transaction is on disk when this returns (synchronous=FULL), otherwise it is in
     * the operating system's hands (NORMAL: safe from a process crash, and made durable by the next
     * synced transaction or checkpoint).
     */
    private void write(boolean sync, SqlWork work) {
        try {
            if (sync != synced) {
                // The setting may not change inside a transaction, and the driver keeps one open between
                // commits while auto-commit is off: leave it (it is empty here) for the change.
                writer.setAutoCommit(true);
                try (Statement pragma = writer.createStatement()) {
                    pragma.execute(sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                } finally {
                    writer.setAutoCommit(false);
                }
                synced = sync;
            }
            work.run();
            writer.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                rollBack();
                // A failure between addBatch and executeBatch must not leave rows for the next commit.
                for (PreparedStatement statement : commitStatements.values()) {
                    statement.clearBatch();
                }
            } catch (SQLException rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            if (e instanceof MetadataException metadataException) {
                throw metadataException;
            }
            throw new MetadataException("metadata database write failed: " + e.getMessage(), e);
        }
    }

    /**
     * Rolls the writer's transaction back and begins the next one, as the driver does after every commit
     * and rollback. SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR,
     * SQLITE_NOMEM); the driver's rollback then fails for want of a transaction and never begins the
     * next, and the next work would run statement by statement, each committed on its own even where
     * the work as a whole fails. Hence the BEGIN here.
     */
    private void rollBack() throws SQLException {
        try {
            writer.rollback();
        } catch (SQLException rollbackFailure) {
            try (Statement begin = writer.createStatement()) {
                begin.execute("BEGIN");
            } catch (SQLException stillInTransaction) {
                rollbackFailure.addSuppressed(stillInTransaction);
                throw rollbackFailure;
            }
        }
    }

    private <T> T read(SqlRead<T> work) {
        Connection connection;
        try {
            connection = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MetadataException("interrupted while waiting for a database connection", e);
        }
        try {
            T result = work.apply(connection);
            return result;
        } catch (SQLException e) {
            throw new MetadataException("metadata database read failed: " + e.getMessage(), e);
        } finally {
            readers.add(connection);
        }
    }
}
