package dev.weir.metadata.postgres;

import dev.weir.metadata.BatchCoordinator;
import dev.weir.metadata.BatchIndex;
import dev.weir.metadata.BrokerRegistry;
import dev.weir.metadata.GroupOffsets;
import dev.weir.metadata.MergeCatalog;
import dev.weir.metadata.MetadataException;
import dev.weir.metadata.ObjectCatalog;
import dev.weir.metadata.RoleStore;
import dev.weir.metadata.TopicCatalog;
import dev.weir.metadata.WalWrite;
import dev.weir.metadata.jdbc.JdbcBatchIndex;
import dev.weir.metadata.jdbc.JdbcBrokerRegistry;
import dev.weir.metadata.jdbc.JdbcGroupOffsets;
import dev.weir.metadata.jdbc.JdbcMergeCatalog;
import dev.weir.metadata.jdbc.JdbcObjectCatalog;
import dev.weir.metadata.jdbc.JdbcTopicCatalog;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import org.apache.kafka.common.Uuid;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The metadata database of the cluster shape: one PostgreSQL database that every broker of the cluster
 * opens, each through its own bounded pool of connections. Nothing that must be atomic across brokers
 * lives in a broker's memory: offsets are assigned and producer sequences checked inside each commit's
 * transaction ({@link PostgresBatchCoordinator}), so any broker may commit to any partition. Each role
 * is a class of its own: the coordinator is PostgreSQL's, the others run the SQL they share with SQLite
 * ({@code dev.weir.metadata.jdbc}) in {@link PostgresDialect}. This class opens the database, migrates
 * its schema, and hands each call to its role. Thread-safe.
 *
 * <p>Commits are durable when they return: {@link WalWrite#sync} does not matter here, since
 * PostgreSQL's {@code synchronous_commit} stays on.
 */
public final class PostgresMetadataStore extends RoleStore {
    private final Database database;
    private final String clusterId;
    private final TopicCatalog topics;
    private final PostgresBatchCoordinator coordinator;
    private final BatchIndex index;
    private final MergeCatalog merges;
    private final ObjectCatalog objects;
    private final GroupOffsets groups;
    private final BrokerRegistry brokerRegistry;
    private final Notices catalogNotices;

    /** Opens the database at {@code jdbcUrl} (user and password may be null), migrating its schema first. */
    public PostgresMetadataStore(String jdbcUrl, String user, String password, Clock clock) {
        database = new Database(jdbcUrl, user, password);
        try {
            // Brokers starting together migrate one at a time: Flyway holds an advisory lock meanwhile.
            Flyway.configure().dataSource(database.dataSource()).locations("classpath:db/migration/postgresql")
                .loggers("slf4j").load().migrate();
            clusterId = loadOrCreateClusterId(database);
        } catch (FlywayException | MetadataException e) {
            database.close();
            throw e instanceof MetadataException metadataException ? metadataException
                : new MetadataException("cannot migrate the metadata database: " + e.getMessage(), e);
        }
        String sender = Notices.newSender();
        catalogNotices = new Notices(PostgresDialect.CATALOG_CHANNEL, sender, jdbcUrl, user, password);
        PostgresDialect dialect = new PostgresDialect(catalogNotices);
        topics = new JdbcTopicCatalog(database, dialect, JdbcTopicCatalog.PartitionListener.NONE);
        coordinator = new PostgresBatchCoordinator(database, clock, new CommitNotices(sender, jdbcUrl, user, password),
            dialect);
        index = new JdbcBatchIndex(database, dialect);
        merges = new JdbcMergeCatalog(database, dialect);
        objects = new JdbcObjectCatalog(database, dialect);
        groups = new JdbcGroupOffsets(database);
        brokerRegistry = new JdbcBrokerRegistry(database, dialect);
    }

    /** The cluster's id, made by the first broker that ever opened the database. */
    private static String loadOrCreateClusterId(Database database) {
        return database.write("create the cluster id", connection -> {
            try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO cluster (id, cluster_id) VALUES (1, ?) ON CONFLICT (id) DO NOTHING");
                 PreparedStatement select = connection.prepareStatement("SELECT cluster_id FROM cluster WHERE id = 1")) {
                insert.setString(1, Uuid.randomUuid().toString());
                insert.executeUpdate();
                try (ResultSet rows = select.executeQuery()) {
                    rows.next();
                    return rows.getString(1);
                }
            }
        });
    }

    @Override
    public AutoCloseable followCatalog(Runnable changed) {
        return catalogNotices.follow("weir-catalog-notices", "topic changes (topics they created may be unknown here"
            + " until then)", new Notices.Listener() {
                @Override
                public void notice(String body) {
                    changed.run();
                }

                @Override
                public void catchUp() {
                    changed.run();
                }
            });
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
        return groups;
    }

    @Override
    protected BrokerRegistry brokerRegistry() {
        return brokerRegistry;
    }

    @Override
    public String clusterId() {
        return clusterId;
    }


    @Override
    public void close() {
        database.close();
    }
}
