package dev.weir.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.sqlite.SQLiteConfig;

/** What a broker's data directory holds, read from outside: object files, and rows of its database. */
public final class DataDirectory {
    private DataDirectory() {
    }

    /** Keys ("wal/&lt;id&gt;", "segment/&lt;id&gt;") of the object files, committed or not. */
    public static Set<String> objectFiles(Path dataDir) throws IOException {
        Set<String> keys = new TreeSet<>();
        for (String directory : List.of("wal", "segment")) {
            Path path = dataDir.resolve("objects").resolve(directory);
            if (!Files.isDirectory(path)) {
                continue;
            }
            try (Stream<Path> files = Files.list(path)) {
                files.forEach(file -> keys.add(directory + "/" + file.getFileName()));
            }
        }
        return keys;
    }

    /** Keys of the objects the metadata database commits, read with a read-only connection of our own. */
    public static Set<String> committedObjects(Path dataDir) throws SQLException {
        Set<String> keys = new TreeSet<>();
        try (Connection connection = readOnly(dataDir);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT object_key FROM objects")) {
            while (rows.next()) {
                keys.add(rows.getString(1));
            }
        }
        return keys;
    }

    /** Keys of the committed WAL files ("wal/&lt;id&gt;"), in order. */
    public static List<String> committedWalFiles(Path dataDir) throws SQLException {
        return committedObjects(dataDir).stream().filter(key -> key.startsWith("wal/")).toList();
    }

    /** The committed bytes of an object: for a WAL file, where its last committed WAL object ends. */
    public static long committedBytes(Path dataDir, String key) throws SQLException {
        try (Connection connection = readOnly(dataDir);
             java.sql.PreparedStatement select = connection.prepareStatement("SELECT size FROM objects WHERE object_key = ?")) {
            select.setString(1, key);
            try (ResultSet rows = select.executeQuery()) {
                if (!rows.next()) {
                    throw new IllegalArgumentException("no committed object " + key);
                }
                return rows.getLong(1);
            }
        }
    }

    /**
     * Index rows of a topic by where they lie: "segment", "wal" (one batch each, not merged yet) or
     * "kept in place" (runs of batches merging left in their WAL file).
     */
    public static Map<String, Long> indexRowsByKind(Path dataDir, String topic) throws SQLException {
        Map<String, Long> kinds = new TreeMap<>();
        try (Connection connection = readOnly(dataDir);
             java.sql.PreparedStatement select = connection.prepareStatement("SELECT CASE WHEN b.object_key LIKE"
                 + " 'segment/%' THEN 'segment' WHEN b.final_headers = 1 THEN 'kept in place' ELSE 'wal' END,"
                 + " COUNT(*) FROM batches b JOIN topics t ON t.topic_id = b.topic_id WHERE t.name = ? GROUP BY 1")) {
            select.setString(1, topic);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    kinds.put(rows.getString(1), rows.getLong(2));
                }
            }
        }
        return kinds;
    }

    /** Per committed WAL file: its committed bytes and the bytes the index refers to. */
    public static Map<String, long[]> walFileUse(Path dataDir) throws SQLException {
        Map<String, long[]> use = new TreeMap<>();
        try (Connection connection = readOnly(dataDir);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT o.object_key, o.size, (SELECT COALESCE(SUM(b.size), 0)"
                 + " FROM batches b WHERE b.object_key = o.object_key) FROM objects o WHERE o.object_key LIKE 'wal/%'")) {
            while (rows.next()) {
                use.put(rows.getString(1), new long[] {rows.getLong(2), rows.getLong(3)});
            }
        }
        return use;
    }

    /** Rows of the batch index. */
    public static long indexRows(Path dataDir) throws SQLException {
        try (Connection connection = readOnly(dataDir);
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM batches")) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static Connection readOnly(Path dataDir) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(10_000);
        return config.createConnection("jdbc:sqlite:" + dataDir.resolve("metadata.db"));
    }

    /**
     * A consistent copy of the metadata database as it is now (SQLite's online backup), taken while the
     * broker runs: what would be on disk if the database's last synced write were this moment.
     */
    public static void snapshotDatabase(Path dataDir, Path target) throws SQLException {
        try (Connection connection = readOnly(dataDir); Statement statement = connection.createStatement()) {
            statement.executeUpdate("backup to " + target.toAbsolutePath());
        }
    }

    /** Puts a snapshot in place of the (stopped) broker's metadata database, dropping what came after it. */
    public static void restoreDatabase(Path dataDir, Path snapshot) throws IOException {
        Files.deleteIfExists(dataDir.resolve("metadata.db-wal"));
        Files.deleteIfExists(dataDir.resolve("metadata.db-shm"));
        Files.copy(snapshot, dataDir.resolve("metadata.db"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Flips bits of the byte at {@code position} of a file, as damage on disk would. */
    public static void damageByte(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            channel.write(one, position);
        }
    }
}
