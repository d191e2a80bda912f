package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.storage.s3.S3ObjectStore;
import dev.weir.testing.BrokerProcess;
import dev.weir.testing.Clients;
import dev.weir.testing.FaultyPostgresProxy;
import dev.weir.testing.FaultyS3Proxy;
import dev.weir.testing.PostgresProcess;
import dev.weir.testing.ProducerLoad;
import dev.weir.testing.ProducerLoad.Figures;
import dev.weir.testing.QuietKafkaClientLogs;
import dev.weir.testing.S3ProxyProcess;
import dev.weir.testing.TestBroker;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Faults of the cluster shape under load: a broker on S3 (S3Proxy, a real S3 server) and PostgreSQL
 * (a real server, fsync on) while an idempotent acks=all producer sends a few thousand records with
 * unique values round four partitions. The broker is killed with SIGKILL and replaced by one on another,
 * empty data directory; PostgreSQL is killed, or stopped cleanly, and started again under a running
 * broker, or loses its answers to commits that it made ({@link FaultyPostgresProxy}); and the object
 * store answers errors, answers slowly, or not at all ({@link FaultyS3Proxy}). The producer is never
 * recreated: it retries and reconnects by itself. The killed broker's output is in
 * {@code target/broker-logs/}; the others run in this JVM.
 *
 * <p>After each fault: every acknowledged record reads back exactly once, at the offset it was
 * acknowledged with, in the order the producer sent the partition's records, with offsets from 0 and
 * no gap; no send failed (the faults are far shorter than the producer's delivery timeout, so nothing
 * may exhaust it), and records sent after the fault ended were acknowledged. Each test prints its
 * figures: records acknowledged, lost, duplicated, failed, and how many the producer retried.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@ExtendWith(QuietKafkaClientLogs.class)
class ClusterFaultTest {
    private static final String TOPIC = "faults";
    private static final int PARTITIONS = 4;
    /** Records acknowledged before a fault begins, and sent after it ends that must be acknowledged. */
    private static final long BEFORE_FAULT = 1_000;
    private static final long AFTER_FAULT = 1_000;
    /** How long the broker may take to serve again once a fault is over. */
    private static final Duration RECOVERY = Duration.ofSeconds(30);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** Sends piled up unanswered: proof that the fault holds the broker's commits up. */
    private static final long HELD_UP = 300;
    /** Time beyond the broker's S3 attempt timeout for it to give up on a stalled request, on a loaded machine. */
    private static final Duration STALL_SLACK = Duration.ofSeconds(10);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    @TempDir
    static Path s3Dir;
    @TempDir
    static Path postgresDir;
    private static S3ProxyProcess s3;
    private static PostgresProcess postgres;
    private static FaultyS3Proxy faultyS3;
    private static FaultyPostgresProxy faultyPostgres;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startServers() throws Exception {
        s3 = S3ProxyProcess.start(s3Dir);
        postgres = PostgresProcess.start(postgresDir);
        faultyS3 = FaultyS3Proxy.start(s3.endpoint());
        faultyPostgres = FaultyPostgresProxy.start(URI.create(postgres.jdbcUrl().substring("jdbc:".length())).getPort());
    }

    @AfterEach
    void endFaults() {
        faultyS3.passThrough();
        faultyPostgres.passThrough();
    }

    @AfterAll
    static void stopServers() throws Exception {
        faultyS3.close();
        faultyPostgres.close();
        s3.close();
        postgres.close();
    }

    /**
     * The settings of a broker of a new cluster: a new bucket and a new database; its S3 requests go to
     * {@code endpoint}. WAL objects are sealed every 20 ms and merged into segments every second, so that
     * faults also strike merges.
     */
    private static Map<String, String> newCluster(URI endpoint) throws Exception {
        int cluster = CLUSTERS.incrementAndGet();
        String bucket = "faults-" + cluster;
        try (S3Client client = s3.client()) {
            client.createBucket(request -> request.bucket(bucket));
        }
        Map<String, String> settings = new HashMap<>();
        settings.put("object.store.url", "s3://" + bucket + "/cluster");
        settings.put("s3.endpoint", endpoint.toString());
        settings.put("s3.path.style.access", "true");
        settings.put("s3.access.key", S3ProxyProcess.ACCESS_KEY);
        settings.put("s3.secret.key", S3ProxyProcess.SECRET_KEY);
        settings.put("s3.wal.object.max.age.ms", "20");
        settings.put("log.merge.interval.ms", "1000");
        settings.put("log.merge.min.age.ms", "0");
        settings.put("log.segment.delete.delay.ms", "1000");
        settings.put("metadata.store.url", postgres.createDatabase("faults_" + cluster));
        settings.put("metadata.store.user", PostgresProcess.USER);
        return settings;
    }

    private static void createTopic(Properties client) throws Exception {
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void aBrokerKilledUnderLoadIsReplacedByOneOnAnEmptyDataDirectory(@TempDir Path newDataDir) throws Exception {
        Map<String, String> settings = newCluster(s3.endpoint());
        Path logFile = Path.of("target", "broker-logs", "ClusterFaultTest-kill-" + System.nanoTime() + ".log");
        try (BrokerProcess broker = new BrokerProcess(dataDir, logFile, settings)) {
            broker.start(START_TIMEOUT);
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                long outstandingAtKill = load.outstanding();
                assertThat(broker.kill()).as("exit status after SIGKILL").isEqualTo(BrokerProcess.SIGKILL_EXIT);
                // While its only broker is away the producer soon forgets the topic's metadata (it goes back to
                // its bootstrap servers) and send() blocks until the new broker answers: nothing else to wait for.
                System.out.printf("ClusterFaultTest: broker killed with %d sends outstanding%n", outstandingAtKill);
                try (var files = Files.list(newDataDir)) {
                    assertThat(files).as("the new broker's data directory").isEmpty();
                }
                broker.restartOnSamePort(newDataDir, START_TIMEOUT);
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("broker SIGKILLed, replaced on an empty data directory",
                    broker.clientProperties()));
            }
        }
    }

    @Test
    void aBrokerCarriesOnWhenPostgresIsKilledAndRestarted() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, newCluster(s3.endpoint()))) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                postgres.kill();
                load.awaitOutstanding(HELD_UP, RECOVERY);
                postgres.restart();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("PostgreSQL SIGKILLed and restarted", broker.clientProperties()));
            }
        }
    }

    @Test
    void aBrokerCarriesOnWhenPostgresIsStoppedAndRestarted() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, newCluster(s3.endpoint()))) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                postgres.stop();
                load.awaitOutstanding(HELD_UP, RECOVERY);
                postgres.restart();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("PostgreSQL stopped cleanly and restarted", broker.clientProperties()));
            }
        }
    }

    @Test
    void aCommitWhoseAnswerIsLostIsNeitherLostNorHidden() throws Exception {
        Map<String, String> settings = newCluster(s3.endpoint());
        settings.put("metadata.store.url", faultyPostgres.throughProxy(settings.get("metadata.store.url")));
        try (TestBroker broker = new TestBroker(dataDir, settings)) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                long retriesBefore = load.retries();
                faultyPostgres.loseCommitReplies();
                // The broker cannot tell whether a WAL commit whose answer it lost happened: its producers are
                // answered REQUEST_TIMED_OUT and send again; the database has the batches all the same.
                await().atMost(RECOVERY).until(() -> load.retries() > retriesBefore);
                faultyPostgres.passThrough();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("PostgreSQL's answers to " + faultyPostgres.lostCommitReplies()
                    + " commits lost", broker.clientProperties()));
            }
        }
    }

    @Test
    void aBrokerCarriesOnWhenTheObjectStoreAnswersErrors() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, newCluster(faultyS3.endpoint()))) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                for (int status : new int[] {503, 500}) {
                    long errorsBefore = faultyS3.answeredWithError();
                    long retriesBefore = load.retries();
                    faultyS3.answerErrors(status);
                    // The broker's S3 client retries by itself; once it gives up, the producer retries.
                    await().atMost(RECOVERY).until(() -> faultyS3.answeredWithError() >= errorsBefore + 10
                        && load.retries() > retriesBefore);
                }
                faultyS3.passThrough();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("object store answering 503 then 500", broker.clientProperties()));
            }
        }
    }

    @Test
    void aBrokerCarriesOnSlowlyWhenTheObjectStoreIsSlow() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, newCluster(faultyS3.endpoint()))) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                long delayedBefore = faultyS3.delayed();
                faultyS3.delayResponses(Duration.ofMillis(500));
                long acknowledgedAtSlowdown = load.acknowledged();
                // Slower, but still taking records: every object's PUT answers half a second late.
                load.awaitAcknowledged(acknowledgedAtSlowdown + 500, RECOVERY);
                assertThat(faultyS3.delayed() - delayedBefore).as("requests answered late").isGreaterThan(0);
                faultyS3.passThrough();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("object store answering 500 ms late", broker.clientProperties()));
            }
        }
    }

    @Test
    void aBrokerGivesUpOnStalledObjectStoreRequestsAndCarriesOn() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, newCluster(faultyS3.endpoint()))) {
            createTopic(broker.clientProperties());
            try (ProducerLoad load = new ProducerLoad(broker.clientProperties(), TOPIC, PARTITIONS, Map.of()).start()) {
                load.awaitAcknowledged(BEFORE_FAULT, RECOVERY);
                long abandonedBefore = faultyS3.stalledAbandoned();
                faultyS3.stall();
                load.awaitOutstanding(HELD_UP, RECOVERY);
                // A request that is never answered must not hold the broker up: it gives up on it after its S3
                // client's attempt timeout (the SDK's socket timeout alone took 30 s per attempt).
                long stalledAt = System.nanoTime();
                await().atMost(S3ObjectStore.ATTEMPT_TIMEOUT.plus(STALL_SLACK))
                    .until(() -> faultyS3.stalledAbandoned() > abandonedBefore);
                System.out.printf("ClusterFaultTest: the broker gave up on a stalled request after %d ms%n",
                    (System.nanoTime() - stalledAt) / 1_000_000);
                faultyS3.passThrough();
                long resumedAt = load.sent();
                load.awaitAcknowledgedSentFrom(resumedAt, AFTER_FAULT, RECOVERY);
                load.finish(RECOVERY);
                assertNothingLost(load.check("object store stalling requests", broker.clientProperties()));
            }
        }
    }

    /**
     * Catch-up reads and tail reads run on separate pools. A broker with one thread in each is started
     * afresh on a store that holds a topic's history, so reading it means GETs; the object store then
     * stalls, and a consumer reading the history from the start waits on its GET. A consumer at the tail
     * of another topic, whose objects this broker wrote and caches, is served all the same, before the
     * broker gives up on the stalled GET; once the store answers again, the history reads back whole.
     */
    @Test
    void aConsumerCatchingUpOnAStalledStoreDoesNotHoldUpOneAtTheTail(@TempDir Path newDataDir) throws Exception {
        Map<String, String> settings = newCluster(faultyS3.endpoint());
        settings.put("num.io.threads", "1");
        settings.put("num.catchup.io.threads", "1");
        settings.put("log.merge.interval.ms", "3600000");
        int records = 200;
        try (TestBroker broker = new TestBroker(dataDir, settings)) {
            produce(broker.clientProperties(), "history", records);
        }
        try (TestBroker broker = new TestBroker(newDataDir, settings)) {
            produce(broker.clientProperties(), "live", records);
            long abandonedBefore = faultyS3.stalledAbandoned();
            long stalledBefore = faultyS3.stalled();
            faultyS3.stall();
            AtomicInteger historyRead = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            Thread catchingUp = new Thread(() -> {
                try (var consumer = Clients.consumer(broker.clientProperties(), Map.of())) {
                    var partition = new TopicPartition("history", 0);
                    consumer.assign(List.of(partition));
                    consumer.seek(partition, 0);
                    while (!stop.get() && historyRead.get() < records) {
                        historyRead.addAndGet(consumer.poll(Duration.ofMillis(200)).count());
                    }
                }
            }, "catching-up");
            catchingUp.start();
            try {
                await().atMost(RECOVERY).until(() -> faultyS3.stalled() > stalledBefore);
                try (var consumer = Clients.consumer(broker.clientProperties(), Map.of())) {
                    var partition = new TopicPartition("live", 0);
                    consumer.assign(List.of(partition));
                    consumer.seek(partition, 0);
                    int liveRead = 0;
                    long deadline = System.nanoTime() + RECOVERY.toNanos();
                    while (liveRead < records && System.nanoTime() < deadline) {
                        liveRead += consumer.poll(Duration.ofMillis(200)).count();
                    }
                    assertThat(liveRead).as("records read at the tail while the store stalled").isEqualTo(records);
                }
                assertThat(faultyS3.stalledAbandoned()).as("stalled GETs given up while the tail was read")
                    .isEqualTo(abandonedBefore);
                assertThat(historyRead).as("history read while the store stalled").hasValue(0);
                faultyS3.passThrough();
                catchingUp.join(RECOVERY.toMillis());
                assertThat(historyRead).as("history read once the store answers").hasValue(records);
            } finally {
                stop.set(true);
                faultyS3.passThrough();
                catchingUp.join(RECOVERY.toMillis());
            }
        }
    }

    /** Sends {@code count} records to a new topic of one partition, acks=all, and waits for them all. */
    private static void produce(Properties client, String topic, int count) throws Exception {
        try (Admin admin = Admin.create(client)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(15, TimeUnit.SECONDS);
        }
        try (var producer = Clients.producer(client, Map.of("acks", "all"))) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
            }
            producer.flush();
        }
    }

    /** Prints the figures and fails on any record lost, duplicated, misplaced or failed. */
    private static void assertNothingLost(Figures figures) {
        System.out.println("ClusterFaultTest " + figures.summary());
        figures.examples().forEach(problem -> System.out.println("  PROBLEM " + problem));
        Map<String, Long> problems = new LinkedHashMap<>();
        problems.put("lost", figures.lost());
        problems.put("duplicated", figures.duplicated());
        problems.put("failed", figures.failed());
        problems.put("stored though failed", figures.storedThoughFailed());
        problems.put("out of order", figures.outOfOrder());
        problems.put("at another offset than acknowledged", figures.misplaced());
        problems.put("offset gaps", figures.offsetGaps());
        problems.put("unknown records", figures.foreign());
        problems.values().removeIf(count -> count == 0);
        assertThat(problems).as("%s; examples: %s", figures.summary(), figures.examples()).isEmpty();
        assertThat(figures.acknowledged()).as("records acknowledged").isGreaterThanOrEqualTo(BEFORE_FAULT + AFTER_FAULT);
    }
}
