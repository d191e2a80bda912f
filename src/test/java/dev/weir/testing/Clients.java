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

    /**
     * Every record of the partitions, from their beginning up to the end offsets they had when reading
     * began (giving up after 30 s), read with a consumer of its own that commits nothing.
     */
    public static java.util.List<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> readToEnd(
        Properties base, java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
        java.util.List<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> records = new java.util.ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(base, Map.of("enable.auto.commit", "false"))) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))
                && System.nanoTime() < deadline) {
                consumer.poll(java.time.Duration.ofMillis(100)).forEach(records::add);
            }
        }
        return records;
    }

    private static Properties merged(Properties base, Map<String, String> settings) {
        Properties properties = new Properties();
        properties.putAll(base);
        properties.putAll(settings);
        return properties;
    }
}
