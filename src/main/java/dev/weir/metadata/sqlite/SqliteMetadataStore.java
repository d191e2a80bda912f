package dev.weir.metadata.sqlite;

import dev.weir.metadata.BatchCoordinator;
import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BrokerRegistry;
import dev.weir.metadata.GroupOffsets;
import dev.weir.metadata.MergeCatalog;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.ObjectCatalog;
import dev.weir.metadata.RoleStore;
import dev.weir.metadata.TopicCatalog;
import dev.weir.metadata.jdbc.JdbcBatchIndex;
import dev.weir.metadata.jdbc.JdbcBrokerRegistry;
import dev.weir.metadata.jdbc.JdbcGroupOffsets;
import dev.weir.metadata.jdbc.JdbcMergeCatalog;
import dev.weir.metadata.jdbc.JdbcObjectCatalog;
import dev.weir.metadata.jdbc.JdbcTopicCatalog;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import org.apache.kafka.common.Uuid;

/**
 * The embedded metadata database of a single node: one SQLite file in WAL mode with
 * {@code synchronous=FULL}, so a commit is on disk when it returns; the commits of WAL objects may
 * ask for {@code NORMAL} instead (see {@link #commit}).
 *
 * <p>Each role lives in its own class, all on one {@link SqliteDatabase}: the batch coordinator is
 * SQLite's ({@link SqliteBatchCoordinator}, which keeps offsets and producer state in memory), the others
 * run the SQL they share with PostgreSQL ({@code dev.weir.metadata.jdbc}) in {@link SqliteDialect}; this
 * class hands each call to its role. Thread-safe: writes of every role are serialised on the database's
 * monitor; reads use a small pool of read-only connections and run concurrently.
 */
public final class SqliteMetadataStore extends RoleStore {
    private final SqliteDatabase database;
    private final String clusterId;
    private final SqliteBatchCoordinator coordinator;
    private final TopicCatalog topics;
    private final BatchIndex index;
    private final MergeCatalog merges;
    private final ObjectCatalog objects;
    private final GroupOffsets groupOffsets;
    private final BrokerRegistry brokerRegistry;

    /** Opens the store; if that fails after the database's connections opened, they are closed again. */
    public SqliteMetadataStore(Path file, Clock clock) {
        try {
            database = new SqliteDatabase(file);
        } catch (SQLException e) {
            throw new MetadataException("cannot open metadata database " + file, e);
        }
        try {
            clusterId = database.initialize(SqliteMetadataStore::loadOrCreateClusterId);
            coordinator = new SqliteBatchCoordinator(database, clock);
        } catch (SQLException | RuntimeException e) {
            try {
                database.close();
            } catch (MetadataException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e instanceof RuntimeException runtime ? runtime
                : new MetadataException("cannot open metadata database " + file, e);
        }
        SqliteDialect dialect = SqliteDialect.INSTANCE;
        topics = new JdbcTopicCatalog(database, dialect, new CoordinatorFollowsPartitions(coordinator));
        index = new JdbcBatchIndex(database, dialect);
        merges = new JdbcMergeCatalog(database, dialect);
        objects = new JdbcObjectCatalog(database, dialect);
        groupOffsets = new JdbcGroupOffsets(database);
        brokerRegistry = new JdbcBrokerRegistry(database, dialect);
    }

    /**
     * Keeps the batch coordinator's in-memory offsets and producer state in step with the partitions the
     * topic catalog creates and deletes; called under the database's write monitor, right after the commit.
     */
    private record CoordinatorFollowsPartitions(SqliteBatchCoordinator coordinator)
        implements JdbcTopicCatalog.PartitionListener {
        @Override
        public void partitionsCreated(Uuid topicId, int from, int to) {
            coordinator.partitionsCreated(topicId, from, to);
        }

        @Override
        public void topicDeleted(Uuid topicId) {
            coordinator.topicDeleted(topicId);
        }
    }

    private static String loadOrCreateClusterId(Connection writer) throws SQLException {
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
        return id;
    }

    @Override
    protected TopicCatalog topicCatalog() {
        return topics;
    }

    @Override
    protected BatchCoordinator batchCoordinator() {
        return coordinator;
    }

    @Override
    protected BatchIndex batchIndex() {
        return index;
    }

    @Override
    protected MergeCatalog mergeCatalog() {
        return merges;
    }

    @Override
    protected ObjectCatalog objectCatalog() {
        return objects;
    }

    @Override
    protected GroupOffsets groupOffsets() {
        return groupOffsets;
    }

    @Override
    protected BrokerRegistry brokerRegistry() {
        return brokerRegistry;
    }

    @Override
    public String clusterId() {
        return clusterId;
    }

    /** Checkpoints the WAL now, as the database's checkpoint thread does every second. */
    void checkpoint() {
        database.checkpoint();
    }

    @Override
    public void close() {
        database.close();
    }
}
