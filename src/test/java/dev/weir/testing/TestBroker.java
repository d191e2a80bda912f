package dev.weir.testing;

import dev.weir.config.BrokerConfig;
import dev.weir.server.Broker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A real broker in this JVM on an ephemeral loopback port, with its data in a given directory: a single
 * node, or with {@code -Dweir.test.shape=cluster} a broker on S3 and PostgreSQL ({@link TestShape}).
 */
public final class TestBroker implements AutoCloseable {
    private final Broker broker;

    public TestBroker(Path dataDir) throws IOException, InterruptedException {
        this(dataDir, Map.of());
    }

    public TestBroker(Path dataDir, Map<String, String> overrides) throws IOException, InterruptedException {
        this(dataDir, overrides, Clock.systemUTC());
    }

    public TestBroker(Path dataDir, Map<String, String> overrides, Clock clock) throws IOException, InterruptedException {
        Map<String, String> settings = new HashMap<>();
        settings.put(BrokerConfig.LISTENERS, "PLAINTEXT://127.0.0.1:0");
        settings.put(BrokerConfig.LOG_DIRS, dataDir.toString());
        settings.putAll(TestShape.settings(dataDir));
        settings.putAll(overrides);
        broker = new Broker(BrokerConfig.of(settings), clock);
    }

    public String bootstrap() {
        return "127.0.0.1:" + broker.port();
    }

    public int port() {
        return broker.port();
    }

    public void enforceRetentionNow() {
        broker.enforceRetentionNow();
    }

    public void mergeNow() {
        broker.mergeNow();
    }

    public java.nio.file.Path dataDir() {
        return broker.dataDir();
    }

    public Properties clientProperties() {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap());
        return properties;
    }

    @Override
    public void close() {
        broker.close();
    }
}
