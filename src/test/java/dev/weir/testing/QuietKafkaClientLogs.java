package dev.weir.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Lowers the Kafka clients' logging to errors for a test class and restores it afterwards: for tests whose
 * producers retry on purpose (after a kill, on a full disk) and would log a warning for every batch.
 */
public final class QuietKafkaClientLogs implements BeforeAllCallback, AfterAllCallback {
    private static final String CLIENTS = "org.apache.kafka";
    private Level before;

    @Override
    public void beforeAll(ExtensionContext context) {
        Logger clients = (Logger) LoggerFactory.getLogger(CLIENTS);
        before = clients.getLevel();
        clients.setLevel(Level.ERROR);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        ((Logger) LoggerFactory.getLogger(CLIENTS)).setLevel(before);
    }
}
