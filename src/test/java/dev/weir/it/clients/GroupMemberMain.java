package dev.weir.it.clients;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A group member in its own JVM, for tests that kill it: subscribes and polls until killed, printing
 * "assigned N" whenever its assignment size changes.
 */
public final class GroupMemberMain {
    private GroupMemberMain() {
    }

    public static void main(String[] args) {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", args[0]);
        properties.put("group.id", args[2]);
        properties.put("session.timeout.ms", "6000");
        properties.put("heartbeat.interval.ms", "500");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties, new StringDeserializer(),
            new StringDeserializer())) {
            consumer.subscribe(List.of(args[1]));
            int last = -1;
            while (true) {
                consumer.poll(Duration.ofMillis(100));
                if (consumer.assignment().size() != last) {
                    last = consumer.assignment().size();
                    System.out.println("assigned " + last);
                    System.out.flush();
                }
            }
        }
    }
}
