package dev.weir.it.clients;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client of ClientCompatibilityTest, for whichever kafka-clients jar is on its class path: the test
 * calls {@link #produce} and {@link #consume} in its own JVM with kafka-clients 4.x and runs {@link #main} in a
 * child JVM with kafka-clients 3.9.x, so this class uses only APIs found in both.
 *
 * <p>Arguments, as for the scripts in {@code src/test/resources/clients/}:
 * {@code BOOTSTRAP TOPIC GROUP produce FIRST COUNT} sends messages FIRST..FIRST+COUNT-1 with acks=all, message
 * {@code i} having key {@code k(i%10)} and value {@code k(i%10)-(i/10)}; {@code BOOTSTRAP TOPIC GROUP consume
 * EXPECTED TIMEOUT_SECONDS} subscribes in GROUP, reads until EXPECTED records came (then polls one more
 * second to catch any extra one) or the timeout passed, commits synchronously and closes, printing each
 * record as {@code key TAB value TAB partition TAB offset}. The client's version goes to standard error.
 */
public final class JavaClientMain {
    private JavaClientMain() {
    }

    public static void main(String[] args) throws Exception {
        System.err.println("client version: " + clientVersion());
        if (args.length != 6) {
            System.err.println("usage: BOOTSTRAP TOPIC GROUP produce FIRST COUNT | BOOTSTRAP TOPIC GROUP consume EXPECTED TIMEOUT_SECONDS");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        String group = args[2];
        int first = Integer.parseInt(args[4]);
        int second = Integer.parseInt(args[5]);
        switch (args[3]) {
            case "produce" -> {
                produce(bootstrap, topic, first, second);
                System.err.println("produced " + second);
            }
            case "consume" -> {
                PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
                int seen = consume(bootstrap, topic, group, first, Duration.ofSeconds(second), out);
                out.flush();
                System.err.println("consumed " + seen);
            }
            default -> {
                System.err.println("unknown mode " + args[3]);
                System.exit(2);
            }
        }
    }

    /** Sends messages {@code first..first+count-1} and waits until each is acknowledged. */
    public static void produce(String bootstrap, String topic, int first, int count) throws Exception {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap);
        properties.put("acks", "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(properties, new StringSerializer(),
            new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = first; i < first + count; i++) {
                String key = "k" + (i % 10);
                sent.add(producer.send(new ProducerRecord<>(topic, key, key + "-" + (i / 10))));
            }
            producer.flush();
            for (Future<RecordMetadata> future : sent) {
                future.get();
            }
        }
    }

    /** Reads in {@code group}, printing each record to {@code out}, commits, closes; returns how many it read. */
    public static int consume(String bootstrap, String topic, String group, int expected, Duration timeout,
                              PrintStream out) {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap);
        properties.put("group.id", group);
        properties.put("auto.offset.reset", "earliest");
        properties.put("enable.auto.commit", "false");
        properties.put("session.timeout.ms", "10000");
        properties.put("heartbeat.interval.ms", "1000");
        int seen = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties, new StringDeserializer(),
            new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long lingerUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, lingerUntil)) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    out.println(record.key() + "\t" + record.value() + "\t" + record.partition() + "\t" + record.offset());
                    seen++;
                }
                if (seen >= expected && lingerUntil == Long.MAX_VALUE) {
                    lingerUntil = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                }
            }
            out.flush();
            consumer.commitSync(Duration.ofSeconds(10));
        }
        return seen;
    }

    /** The version of the kafka-clients jar on the class path, from the resource every release ships. */
    public static String clientVersion() {
        java.util.Properties properties = new java.util.Properties();
        try (java.io.InputStream in = JavaClientMain.class.getClassLoader()
            .getResourceAsStream("kafka/kafka-version.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (java.io.IOException e) {
            return "unknown";
        }
        return properties.getProperty("version", "unknown");
    }
}
