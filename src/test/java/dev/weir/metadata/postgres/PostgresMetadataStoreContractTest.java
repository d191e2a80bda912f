package dev.weir.metadata.postgres;

import dev.weir.metadata.MetadataStoreContract;
import dev.weir.testing.PostgresProcess;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The contract on a real PostgreSQL server, one for the class, with a new database for each test. */
class PostgresMetadataStoreContractTest extends MetadataStoreContract {
    @TempDir
    static Path dir;
    private static PostgresProcess postgres;
    private static int databases;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresProcess.start(dir);
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Override
    protected StoreOpener newDatabase() throws Exception {
        String url = postgres.createDatabase("contract_" + ++databases);
        return new StoreOpener() {
            @Override
            public PostgresMetadataStore open(Clock clock) {
                return new PostgresMetadataStore(url, PostgresProcess.USER, null, clock);
            }

            @Override
            public long rowsIn(String table) throws Exception {
                try (Connection connection = DriverManager.getConnection(url, PostgresProcess.USER, null);
                     Statement statement = connection.createStatement();
                     ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
                    rows.next();
                    return rows.getLong(1);
                }
            }
        };
    }
}
