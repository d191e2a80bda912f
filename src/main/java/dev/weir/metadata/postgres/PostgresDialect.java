package dev.weir.metadata.postgres;

import dev.weir.metadata.jdbc.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.kafka.common.Uuid;

/**
 * PostgreSQL's side of the shared SQL: topic ids are uuid; brokers write concurrently, so what must
 * not interleave takes row locks ({@code FOR UPDATE}) or advisory locks; a key prefix is matched with
 * LIKE, which the key columns' "C" collation lets use their indexes; changes of the topic catalog are
 * made known to the other brokers with a notice on the {@value #CATALOG_CHANNEL} channel.
 */
final class PostgresDialect implements Dialect {
    static final String CATALOG_CHANNEL = "weir_catalog";
    /** For reading and binding ids and partitions only: it sends no notices. */
    static final PostgresDialect INSTANCE = new PostgresDialect(null);

    private final Notices catalogNotices;

    /** A dialect whose catalog changes send notices through {@code catalogNotices} (none if null). */
    PostgresDialect(Notices catalogNotices) {
        this.catalogNotices = catalogNotices;
    }

    @Override
    public void catalogChanged(Connection connection) throws SQLException {
        if (catalogNotices != null) {
            catalogNotices.send(connection, "");
        }
    }

    @Override
    public void setTopicId(PreparedStatement statement, int index, Uuid topicId) throws SQLException {
        statement.setObject(index, Rows.uuid(topicId));
    }

    @Override
    public Uuid topicId(ResultSet rows, int column) throws SQLException {
        return Rows.topicId(rows, column);
    }

    @Override
    public String lockingClause() {
        return " FOR UPDATE";
    }

    @Override
    public void lockForTransaction(Connection connection, long key) throws SQLException {
        try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            lock.setLong(1, key);
            lock.executeQuery().close();
        }
    }

    @Override
    public String startsWith(String column) {
        return column + " LIKE ? ESCAPE '\\'";
    }

    @Override
    public int setPrefix(PreparedStatement statement, int index, String prefix) throws SQLException {
        statement.setString(index, likePrefix(prefix));
        return index + 1;
    }

    /** A LIKE pattern matching the keys that start with {@code prefix}, whatever characters it holds. */
    private static String likePrefix(String prefix) {
        return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }
}
