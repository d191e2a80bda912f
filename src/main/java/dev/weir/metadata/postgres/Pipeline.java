package dev.weir.metadata.postgres;

import dev.weir.metadata.PartitionKey;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Statements of one transaction sent to the database together and answered together: one round trip,
 * however many statements. The server still runs them one after another, in order, each as if it came
 * alone: at READ COMMITTED each sees what was committed before it began, so a statement after one that
 * waited for row locks sees the work of the transactions it waited for. The first statement that fails
 * aborts the transaction, and those after it do not run. Not thread-safe: one transaction's thread owns it.
 */
final class Pipeline {
    /** Sets a statement's parameters, in the order they appear in its text. */
    interface Binding {
        void bind(Parameters parameters) throws SQLException;
    }

    interface RowsReader {
        void read(ResultSet rows) throws SQLException;
    }

    interface CountCheck {
        void check(int updated) throws SQLException;
    }

    /** A statement of the pipeline: a query read by {@code reader}, or else a change checked by {@code check}. */
    private record Step(String sql, Binding binding, RowsReader reader, CountCheck check) {
    }

    private final List<Step> steps = new ArrayList<>();

    /** Adds a query, whose rows {@code reader} reads once the pipeline has run. */
    Pipeline query(String sql, Binding binding, RowsReader reader) {
        steps.add(new Step(sql, binding, reader, null));
        return this;
    }

    /** Adds a statement that changes rows. */
    Pipeline update(String sql, Binding binding) {
        return update(sql, binding, updated -> { });
    }

    /** Adds a statement that changes rows, whose count of changed rows {@code check} sees once the pipeline has run. */
    Pipeline update(String sql, Binding binding, CountCheck check) {
        steps.add(new Step(sql, binding, null, check));
        return this;
    }

    boolean isEmpty() {
        return steps.isEmpty();
    }

    /** Sends the statements at once, then hands each one's result to its reader or check, in order. */
    void run(Connection connection) throws SQLException {
        if (steps.isEmpty()) {
            return;
        }
        StringBuilder sql = new StringBuilder();
        for (Step step : steps) {
            sql.append(sql.isEmpty() ? "" : ";\n").append(step.sql());
        }
        try (PreparedStatement statement = connection.prepareStatement(sql.toString())) {
            Parameters parameters = new Parameters(connection, statement);
            for (Step step : steps) {
                step.binding().bind(parameters);
            }
            boolean rows = statement.execute();
            for (Step step : steps) {
                if (rows != (step.reader() != null)) {
                    throw new IllegalStateException("the statement \"" + step.sql() + "\" answered "
                        + (rows ? "rows" : "a count") + ", not what the pipeline expected");
                }
                if (rows) {
                    try (ResultSet result = statement.getResultSet()) {
                        step.reader().read(result);
                    }
                } else {
                    step.check().check(statement.getUpdateCount());
                }
                rows = statement.getMoreResults();
            }
        }
    }

    /** The parameters of all the pipeline's statements, set one after another. */
    static final class Parameters {
        private final Connection connection;
        private final PreparedStatement statement;
        private int next = 1;

        private Parameters(Connection connection, PreparedStatement statement) {
            this.connection = connection;
            this.statement = statement;
        }

        Parameters setLong(long value) throws SQLException {
            statement.setLong(next++, value);
            return this;
        }

        Parameters setString(String value) throws SQLException {
            statement.setString(next++, value);
            return this;
        }

        /** An array of {@code type} (a PostgreSQL type name, such as "bigint"), for {@code ?::bigint[]}. */
        Parameters setArray(String type, Object[] values) throws SQLException {
            statement.setArray(next++, connection.createArrayOf(type, values));
            return this;
        }

        /** The partitions' topic ids and numbers as two arrays, for {@code unnest(?::uuid[], ?::integer[])}. */
        Parameters setPartitions(Collection<PartitionKey> partitions) throws SQLException {
            for (Array array : Rows.partitionArrays(connection, partitions)) {
                statement.setArray(next++, array);
            }
            return this;
        }
    }
}
