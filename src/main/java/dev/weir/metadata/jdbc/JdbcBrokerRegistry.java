package dev.weir.metadata.jdbc;

import dev.weir.metadata.BrokerRegistration;
import dev.weir.metadata.BrokerRegistry;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The broker registry, on either database. Thread-safe. */
public final class JdbcBrokerRegistry implements BrokerRegistry {
    private static final String COLUMNS = "node_id, instance_id, host, port, rack, heartbeat_ms";

    private final Transactions database;
    private final Dialect dialect;

    public JdbcBrokerRegistry(Transactions database, Dialect dialect) {
        this.database = database;
        this.dialect = dialect;
    }

    @Override
    public BrokerRegistration register(BrokerRegistration broker, long replaceHeartbeatAtMostMs) {
        return database.write("register broker " + broker.nodeId(), connection -> {
            BrokerRegistration holder = null;
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM brokers WHERE node_id = ?" + dialect.lockingClause())) {
                select.setInt(1, broker.nodeId());
                try (ResultSet rows = select.executeQuery()) {
                    if (rows.next()) {
                        holder = registration(rows);
                    }
                }
            }
            if (holder != null && !holder.instanceId().equals(broker.instanceId())
                && holder.heartbeatMs() > replaceHeartbeatAtMostMs) {
                return holder;
            }
            try (PreparedStatement write = connection.prepareStatement(holder == null
                ? "INSERT INTO brokers (instance_id, host, port, rack, heartbeat_ms, node_id) VALUES (?, ?, ?, ?, ?, ?)"
                : "UPDATE brokers SET instance_id = ?, host = ?, port = ?, rack = ?, heartbeat_ms = ? WHERE node_id = ?")) {
                write.setString(1, broker.instanceId());
                write.setString(2, broker.host());
                write.setInt(3, broker.port());
                write.setString(4, broker.rack());
                write.setLong(5, broker.heartbeatMs());
                write.setInt(6, broker.nodeId());
                write.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public boolean heartbeat(int nodeId, String instanceId, long nowMs) {
        return database.write("heartbeat of broker " + nodeId, connection -> {
            try (PreparedStatement update = connection.prepareStatement(
                "UPDATE brokers SET heartbeat_ms = ? WHERE node_id = ? AND instance_id = ?")) {
                update.setLong(1, nowMs);
                update.setInt(2, nodeId);
                update.setString(3, instanceId);
                return update.executeUpdate() == 1;
            }
        });
    }

    @Override
    public void unregister(int nodeId, String instanceId) {
        database.write("unregister broker " + nodeId, connection -> {
            try (PreparedStatement delete = connection.prepareStatement(
                "DELETE FROM brokers WHERE node_id = ? AND instance_id = ?")) {
                delete.setInt(1, nodeId);
                delete.setString(2, instanceId);
                delete.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public List<BrokerRegistration> brokers() {
        return database.read("read the registered brokers", connection -> {
            List<BrokerRegistration> brokers = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT " + COLUMNS + " FROM brokers ORDER BY node_id");
                 ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    brokers.add(registration(rows));
                }
            }
            return brokers;
        });
    }

    private static BrokerRegistration registration(ResultSet rows) throws SQLException {
        return new BrokerRegistration(rows.getInt(1), rows.getString(2), rows.getString(3), rows.getInt(4),
            rows.getString(5), rows.getLong(6));
    }
}
