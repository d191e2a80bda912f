package dev.weir.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;

/**
 * One idempotent producer (acks=all) sending records with unique values round the partitions of a topic,
 * from a thread of its own, at a bounded pace and with a bounded number of sends outstanding, while a
 * test breaks what the broker depends on; then the check of what the log holds against what the
 * producer was told. The producer is never recreated: it retries and reconnects by itself, as a real
 * client does.
 *
 * <p>Record {@code i} goes to partition {@code i % partitions} with the value {@code "p<partition>-s<i>"}.
 * The sending thread is the only one that sends; callbacks record each send's outcome. Thread-safe.
 */
public final class ProducerLoad implements AutoCloseable {
    /** Sends not yet answered at most: bounds the producer's buffer while the broker cannot commit. */
    private static final int MAX_OUTSTANDING = 500;
    /** Records sent between two pauses of {@link #PAUSE_NANOS}: about 1,500 records a second at most. */
    private static final int RECORDS_PER_PAUSE = 15;
    private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private final String topic;
    private final int partitions;
    private final KafkaProducer<String, String> producer;
    private final Semaphore window = new Semaphore(MAX_OUTSTANDING);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    /** Send index to the offset it was acknowledged at. */
    private final Map<Long, Long> acknowledgedOffsets = new ConcurrentHashMap<>();
    /** Send index to the error the producer reported for it. */
    private final Map<Long, Exception> failures = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Throwable> senderErrors = new ConcurrentLinkedQueue<>();
    private final Thread sender;

    /**
     * A load on {@code topic} (with {@code partitions} partitions) through the broker of {@code client}
     * (bootstrap.servers); {@code producerSettings} are added to the producer's, which are idempotent and
     * acks=all, with a delivery timeout far longer than any fault a test makes.
     */
    public ProducerLoad(Properties client, String topic, int partitions, Map<String, String> producerSettings) {
        this.topic = topic;
        this.partitions = partitions;
        Map<String, String> settings = new HashMap<>(Map.of("acks", "all", "enable.idempotence", "true",
            "max.in.flight.requests.per.connection", "5", "linger.ms", "5", "request.timeout.ms", "15000",
            "delivery.timeout.ms", "120000", "retry.backoff.ms", "50", "reconnect.backoff.ms", "50",
            "reconnect.backoff.max.ms", "500"));
        settings.putAll(producerSettings);
        this.producer = Clients.producer(client, settings);
        this.sender = new Thread(this::sendUntilStopped, "producer-load-" + topic);
        this.sender.setDaemon(true);
    }

    public ProducerLoad start() {
        sender.start();
        return this;
    }

    private void sendUntilStopped() {
        for (long index = 0; !stopping.get(); index++) {
            try {
                while (!window.tryAcquire(20, TimeUnit.MILLISECONDS)) {
                    if (stopping.get()) {
                        return;
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
            long sendIndex = index;
            int partition = (int) (index % partitions);
            try {
                producer.send(new ProducerRecord<>(topic, partition, null, value(partition, index)), (metadata, error) -> {
                    if (error != null) {
                        failures.put(sendIndex, error);
                    } else {
                        acknowledgedOffsets.put(sendIndex, metadata.offset());
                        acknowledged.incrementAndGet();
                    }
                    window.release();
                });
                sent.incrementAndGet();
            } catch (RuntimeException e) {
                window.release();
                senderErrors.add(e);
                return;
            }
            if (index % RECORDS_PER_PAUSE == RECORDS_PER_PAUSE - 1) {
                // The load's pace, not a wait for anything.
                LockSupport.parkNanos(PAUSE_NANOS);
            }
        }
    }

    private static String value(int partition, long index) {
        return "p" + partition + "-s" + index;
    }

    public long sent() {
        return sent.get();
    }

    public long acknowledged() {
        return acknowledged.get();
    }

    /** Sends made and not yet answered (acknowledged or failed). */
    public long outstanding() {
        return sent.get() - acknowledged.get() - failures.size();
    }

    /** Waits until {@code count} records in all were acknowledged. */
    public void awaitAcknowledged(long count, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(20)).failFast("the sending thread failed",
                () -> !senderErrors.isEmpty())
            .untilAsserted(() -> assertThat(acknowledged.get()).as("acknowledged records (%s)", this)
                .isGreaterThanOrEqualTo(count));
    }

    /** Waits until at least {@code count} sends are outstanding: the broker stopped answering them. */
    public void awaitOutstanding(long count, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(20)).failFast("the sending thread failed",
                () -> !senderErrors.isEmpty())
            .untilAsserted(() -> assertThat(outstanding()).as("outstanding sends (%s)", this)
                .isGreaterThanOrEqualTo(count));
    }

    /**
     * Waits until {@code count} records sent after the first {@code fromSend} were acknowledged: records the
     * producer sent after a fault ended went through, with nothing recreated.
     */
    public void awaitAcknowledgedSentFrom(long fromSend, long count, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(20)).failFast("the sending thread failed",
                () -> !senderErrors.isEmpty())
            .untilAsserted(() -> assertThat(acknowledgedOffsets.keySet().stream().filter(index -> index >= fromSend).count())
                .as("records acknowledged of those sent from send %d on (%s)", fromSend, this)
                .isGreaterThanOrEqualTo(count));
    }

    /** The counts so far, and where the sending thread is: for the messages of waits that time out. */
    @Override
    public String toString() {
        StackTraceElement[] stack = sender.getStackTrace();
        return "sent " + sent + ", acknowledged " + acknowledged + ", failed " + failures.size() + ", sending thread "
            + sender.getState() + " in " + Arrays.toString(Arrays.copyOf(stack, Math.min(6, stack.length)));
    }

    /** The producer's own count of records it sent again (metric record-retry-total). */
    public long retries() {
        return (long) metricValue("record-retry-total");
    }

    private double metricValue(String name) {
        for (Map.Entry<MetricName, ? extends Metric> metric : producer.metrics().entrySet()) {
            if (metric.getKey().name().equals(name) && metric.getKey().group().equals("producer-metrics")) {
                return ((Number) metric.getValue().metricValue()).doubleValue();
            }
        }
        throw new IllegalStateException("the producer has no metric " + name);
    }

    /**
     * Stops sending, waits until every send was answered (acknowledged, or failed once the producer gave
     * up on it) and closes the producer.
     */
    public void finish(Duration within) throws InterruptedException {
        stopping.set(true);
        sender.join(within.toMillis());
        producer.flush();
        await().atMost(within).until(() -> outstanding() == 0);
        producer.close(Duration.ofSeconds(5));
        if (!senderErrors.isEmpty()) {
            throw new AssertionError("send() threw", senderErrors.peek());
        }
    }

    /** What a check of the log found: every count but {@code acknowledged} and {@code retries} must be 0. */
    public record Figures(String fault, long sent, long acknowledged, long lost, long duplicated, long failed,
                          long storedThoughFailed, long outOfOrder, long misplaced, long offsetGaps, long foreign,
                          long retries, Map<String, Long> failureKinds, List<String> examples) {
        public String summary() {
            return String.format("%s: %d sent, %d acknowledged, %d lost, %d duplicated, %d failed %s, %d stored though"
                    + " failed, %d out of order, %d at another offset than acknowledged, %d offset gaps, %d unknown"
                    + " records; the producer retried %d records", fault, sent, acknowledged, lost, duplicated, failed,
                failureKinds, storedThoughFailed, outOfOrder, misplaced, offsetGaps, foreign, retries);
        }
    }

    /**
     * Reads every partition from its start to its end offset through the broker of {@code client} and
     * checks it against the outcomes of the sends: each acknowledged record is there exactly once, at
     * the offset it was acknowledged with, in the order the producer sent the partition's records, and
     * offsets run from 0 without a gap. Call after {@link #finish}.
     */
    public Figures check(String fault, Properties client) {
        Map<Integer, List<ConsumerRecord<String, String>>> log = readAll(client);
        Map<String, Long> sendOf = new HashMap<>();
        for (long index = 0; index < sent.get(); index++) {
            sendOf.put(value((int) (index % partitions), index), index);
        }
        long duplicated = 0;
        long storedThoughFailed = 0;
        long outOfOrder = 0;
        long misplaced = 0;
        long gaps = 0;
        long foreign = 0;
        long found = 0;
        List<String> examples = new ArrayList<>();
        for (int partition = 0; partition < partitions; partition++) {
            List<ConsumerRecord<String, String>> records = log.get(partition);
            Map<String, Integer> seen = new HashMap<>();
            long previousIndex = -1;
            long nextOffset = 0;
            for (ConsumerRecord<String, String> record : records) {
                if (record.offset() != nextOffset) {
                    gaps++;
                    example(examples, "partition " + partition + ": offset " + record.offset() + " follows "
                        + (nextOffset - 1));
                }
                nextOffset = record.offset() + 1;
                Long index = sendOf.get(record.value());
                if (index == null || index % partitions != partition) {
                    foreign++;
                    example(examples, "partition " + partition + ": unknown value " + record.value());
                    continue;
                }
                if (seen.merge(record.value(), 1, Integer::sum) > 1) {
                    duplicated++;
                    example(examples, "partition " + partition + ": " + record.value() + " again at " + record.offset());
                    continue;
                }
                if (index < previousIndex) {
                    outOfOrder++;
                    example(examples, "partition " + partition + ": " + record.value() + " at " + record.offset()
                        + " after send " + previousIndex);
                }
                previousIndex = Math.max(previousIndex, index);
                Long offset = acknowledgedOffsets.get(index);
                if (offset == null) {
                    storedThoughFailed += failures.containsKey(index) ? 1 : 0;
                } else {
                    found++;
                    if (offset != record.offset()) {
                        misplaced++;
                        example(examples, record.value() + " was acknowledged at " + offset + ", read at " + record.offset());
                    }
                }
            }
        }
        long lost = acknowledgedOffsets.size() - found;
        if (lost > 0) {
            acknowledgedOffsets.keySet().stream().sorted().filter(index -> log.get((int) (index % partitions)).stream()
                    .noneMatch(record -> record.value().equals(value((int) (index % partitions), index))))
                .limit(5).forEach(index -> example(examples, "acknowledged send " + index + " at offset "
                    + acknowledgedOffsets.get(index) + " is missing"));
        }
        Map<String, Long> kinds = new TreeMap<>();
        failures.values().forEach(error -> kinds.merge(error.getClass().getSimpleName(), 1L, Long::sum));
        return new Figures(fault, sent.get(), acknowledgedOffsets.size(), lost, duplicated, failures.size(),
            storedThoughFailed, outOfOrder, misplaced, gaps, foreign, retries(), kinds, examples);
    }

    private static void example(List<String> examples, String problem) {
        if (examples.size() < 20) {
            examples.add(problem);
        }
    }

    private Map<Integer, List<ConsumerRecord<String, String>>> readAll(Properties client) {
        List<TopicPartition> all = new ArrayList<>();
        Map<Integer, List<ConsumerRecord<String, String>>> log = new HashMap<>();
        for (int partition = 0; partition < partitions; partition++) {
            all.add(new TopicPartition(topic, partition));
            log.put(partition, new ArrayList<>());
        }
        try (KafkaConsumer<String, String> consumer = Clients.consumer(client,
            Map.of("enable.auto.commit", "false", "auto.offset.reset", "none", "isolation.level", "read_uncommitted"))) {
            consumer.assign(all);
            Map<TopicPartition, Long> start = consumer.beginningOffsets(all, READ_TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(all, READ_TIMEOUT);
            for (TopicPartition partition : all) {
                if (start.get(partition) != 0) {
                    throw new AssertionError(partition + " starts at offset " + start.get(partition) + ", not 0");
                }
            }
            consumer.seekToBeginning(all);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (all.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("reading " + topic + " up to its end offsets " + end + " took over "
                        + READ_TIMEOUT);
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        log.get(record.partition()).add(record);
                    }
                }
            }
        }
        return log;
    }

    /** Closes the producer at once if the test ended before {@link #finish}. */
    @Override
    public void close() {
        stopping.set(true);
        producer.close(Duration.ZERO);
    }
}
