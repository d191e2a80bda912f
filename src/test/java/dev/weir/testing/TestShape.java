package dev.weir.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Which shape the in-process test brokers take: the single node (the default: objects and SQLite in the
 * data directory) or, with {@code -Dweir.test.shape=cluster}, the cluster shape (objects in S3, metadata
 * in PostgreSQL), so that tests of client behaviour run unchanged on both. In the cluster shape one
 * S3Proxy and one PostgreSQL serve the whole test JVM, started on first use and stopped at its exit;
 * each data directory gets a bucket and a database of its own, the same ones again when a broker is
 * restarted on it. Thread-safe.
 */
public final class TestShape {
    public static final String PROPERTY = "weir.test.shape";

    private static S3ProxyProcess s3;
    private static PostgresProcess postgres;

    private TestShape() {
    }

    public static boolean isCluster() {
        return "cluster".equals(System.getProperty(PROPERTY));
    }

    /** The settings that put a broker on {@code dataDir} in this shape: none for the single node. */
    public static synchronized Map<String, String> settings(Path dataDir) {
        if (!isCluster()) {
            return Map.of();
        }
        try {
            startServers();
            String name = nameOf(dataDir);
            try (S3Client client = s3.client()) {
                if (client.listBuckets().buckets().stream().noneMatch(bucket -> bucket.name().equals("weir-" + name))) {
                    client.createBucket(request -> request.bucket("weir-" + name));
                }
            }
            String database = "weir_" + name;
            if (!postgres.databaseExists(database)) {
                postgres.createDatabase(database);
            }
            Map<String, String> settings = new HashMap<>();
            settings.put("object.store.url", "s3://weir-" + name + "/cluster");
            settings.put("s3.endpoint", s3.endpoint().toString());
            settings.put("s3.path.style.access", "true");
            settings.put("s3.access.key", S3ProxyProcess.ACCESS_KEY);
            settings.put("s3.secret.key", S3ProxyProcess.SECRET_KEY);
            // Tests wait for many single acknowledgements: objects are sealed sooner than S3's default asks.
            settings.put("s3.wal.object.max.age.ms", "5");
            settings.put("metadata.store.url", postgres.jdbcUrl(database));
            settings.put("metadata.store.user", PostgresProcess.USER);
            return settings;
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up the cluster shape for " + dataDir, e);
        }
    }

    private static void startServers() throws IOException, InterruptedException {
        if (postgres != null) {
            return;
        }
        Path dir = Files.createTempDirectory("weir-cluster-shape");
        if (s3 == null) {
            s3 = S3ProxyProcess.start(Files.createDirectories(dir.resolve("s3")));
        }
        postgres = PostgresProcess.start(Files.createDirectories(dir.resolve("postgres")));
        PostgresProcess startedPostgres = postgres;
        S3ProxyProcess startedS3 = s3;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            startedS3.close();
            try {
                startedPostgres.close();
            } catch (IOException e) {
                e.printStackTrace();
            }
        }, "weir-cluster-shape-stop"));
    }

    /** A name for the data directory's bucket and database: lower-case hex, the same for the same path. */
    private static String nameOf(Path dataDir) throws NoSuchAlgorithmException {
        byte[] digest = MessageDigest.getInstance("SHA-256")
            .digest(dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest, 0, 12);
    }
}
