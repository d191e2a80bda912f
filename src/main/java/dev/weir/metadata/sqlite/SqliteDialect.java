package dev.weir.metadata.sqlite;

import dev.weir.metadata.jdbc.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.apache.kafka.common.Uuid;

/**
 * SQLite's side of the shared SQL: topic ids are text; one process opens the file and writes on one
 * connection, one transaction at a time ({@link SqliteDatabase}), so nothing needs locking; a key
 * prefix is matched as a range of keys, which uses the primary key's index (SQLite's LIKE ignores
 * the case of ASCII letters).
 */
final class SqliteDialect implements Dialect {
    static final SqliteDialect INSTANCE = new SqliteDialect();

    private SqliteDialect() {
    }

    @Override
    public void setTopicId(PreparedStatement statement, int index, Uuid topicId) throws SQLException {
        statement.setString(index, topicId.toString());
    }

    @Override
    public Uuid topicId(ResultSet rows, int column) throws SQLException {
        return Uuid.fromString(rows.getString(column));
    }

    @Override
    public String lockingClause() {
        return "";
    }

    @Override
    public void lockForTransaction(Connection connection, long key) {
    }

    @Override
    public String startsWith(String column) {
        return column + " >= ? AND " + column + " < ?";
    }

    @Override
    public int setPrefix(PreparedStatement statement, int index, String prefix) throws SQLException {
        statement.setString(index, prefix);
        statement.setString(index + 1, prefix + Character.MAX_VALUE);
        return index + 2;
    }

    @Override
    public void catalogChanged(Connection connection) {
        // One broker opens the file: nobody else to tell.
    }
}
