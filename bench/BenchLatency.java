import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The end-to-end workload of bench/run (Kafka's EndToEndLatency: one record at a time to partition 0,
 * acks=all, linger.ms 0, a consumer at the tail with fetch.max.wait.ms 0), timing each record's two
 * halves apart: from send to acknowledged, and from acknowledged to received by the consumer.
 * bench/run --cluster runs it on the cluster shape to split a record's time (docs/performance.md).
 * Compiled once per run against Kafka's client jars:
 *
 * <pre>javac -d CLASSES -cp 'bench/target/kafka-lib/*' bench/BenchLatency.java
 *     java -cp 'CLASSES:bench/target/kafka-lib/*' BenchLatency BOOTSTRAP TOPIC RECORDS RECORD_SIZE</pre>
 *
 * Prints one line per record (index, microseconds to acknowledged, microseconds from then to received),
 * then one summary line per half and for the whole, in milliseconds. Exits non-zero if a record is not
 * received within 60 s, or another record is.
 */
public final class BenchLatency {
    private static final Duration RECEIVE_TIMEOUT = Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: BenchLatency BOOTSTRAP TOPIC RECORDS RECORD_SIZE");
            System.exit(2);
        }
        String topic = args[1];
        int records = Integer.parseInt(args[2]);
        byte[] value = new byte[Integer.parseInt(args[3])];
        new Random(42).nextBytes(value);
        TopicPartition partition = new TopicPartition(topic, 0);
        long[] acknowledgedNanos = new long[records];
        long[] receivedNanos = new long[records];
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProperties(args[0]));
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(args[0]))) {
            consumer.assign(List.of(partition));
            consumer.seekToEnd(List.of(partition));
            consumer.position(partition);
            for (int i = 0; i < records; i++) {
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, 0, null, value)).get();
                long acknowledged = System.nanoTime();
                awaitRecord(consumer, value, i);
                long received = System.nanoTime();
                acknowledgedNanos[i] = acknowledged - sent;
                receivedNanos[i] = received - acknowledged;
                System.out.printf("record %d %d %d%n", i, acknowledgedNanos[i] / 1000, receivedNanos[i] / 1000);
            }
        }
        long[] total = new long[records];
        for (int i = 0; i < records; i++) {
            total[i] = acknowledgedNanos[i] + receivedNanos[i];
        }
        summary("send to acknowledged", acknowledgedNanos);
        summary("acknowledged to received", receivedNanos);
        summary("send to received", total);
    }

    private static void awaitRecord(KafkaConsumer<byte[], byte[]> consumer, byte[] value, int index) {
        long deadline = System.nanoTime() + RECEIVE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(10));
            if (polled.isEmpty()) {
                continue;
            }
            if (polled.count() != 1 || !Arrays.equals(polled.iterator().next().value(), value)) {
                System.err.println("BenchLatency: record " + index + ": expected one record with the value sent, got " + polled.count());
                System.exit(1);
            }
            return;
        }
        System.err.println("BenchLatency: record " + index + " not received within " + RECEIVE_TIMEOUT.toSeconds() + " s");
        System.exit(1);
    }

    /** avg, p50, p99, p99.9 and max in milliseconds, to the microsecond. */
    private static void summary(String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double avg = Arrays.stream(sorted).average().orElse(0);
        System.out.printf("%s ms: avg %.3f, p50 %.3f, p99 %.3f, p99.9 %.3f, max %.3f%n", name, avg / 1e6,
            percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6, percentile(sorted, 0.999) / 1e6,
            sorted[sorted.length - 1] / 1e6);
    }

    /** The value at rank ceil(q * n), as EndToEndLatency takes its percentiles. */
    private static double percentile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static Properties producerProperties(String bootstrap) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return props;
    }

    private static Properties consumerProperties(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-latency-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "0");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return props;
    }
}
