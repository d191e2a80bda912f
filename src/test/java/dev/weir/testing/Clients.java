package dev.weir.testing;

import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The unmodified Java clients with string keys and values, from a broker's properties plus settings. */
public final class Clients {
    private Clients() {
    }

    public static KafkaConsumer<String, String> consumer(Properties base, Map<String, String> settings) {
        return new KafkaConsumer<>(merged(base, settings), new StringDeserializer(), new StringDeserializer());
    }

    public static KafkaProducer<String, String> producer(Properties base, Map<String, String> settings) {
        return new KafkaProducer<>(merged(base, settings), new StringSerializer(), new StringSerializer());
    }

    private static Properties merged(Properties base, Map<String, String> settings) {
        Properties properties = new Properties();
        properties.putAll(base);
        properties.putAll(settings);
        return properties;
    }
}
