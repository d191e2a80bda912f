package dev.weir.metadata.sqlite;

import dev.weir.metadata.MetadataStoreContract;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

class SqliteMetadataStoreContractTest extends MetadataStoreContract {
    @TempDir
    Path dir;
    private int databases;

    @Override
    protected StoreOpener newDatabase() {
        Path file = dir.resolve("metadata-" + ++databases + ".db");
        return new StoreOpener() {
            @Override
            public SqliteMetadataStore open(Clock clock) {
                return new SqliteMetadataStore(file, clock);
            }

            @Override
            public long rowsIn(String table) throws Exception {
                try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + file);
                     Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        };
    }
}
