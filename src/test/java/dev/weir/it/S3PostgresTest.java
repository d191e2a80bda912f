package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.testing.Clients;
import dev.weir.testing.MutableClock;
import dev.weir.testing.PostgresProcess;
import dev.weir.testing.S3ProxyProcess;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A broker of the cluster shape: its objects in S3 (S3Proxy, a real S3 server), its metadata in
 * PostgreSQL (a real server, fsync on). Every WAL object is an object of its own, put once; produced
 * records read back in order, after merging, and on a broker started with another, empty data
 * directory, since everything is in the store and the database; and a broker whose database belongs to
 * another cluster refuses the bucket.
 */
class S3PostgresTest {
    private static final int PARTITIONS = 3;
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @TempDir
    static Path s3Dir;
    @TempDir
    static Path postgresDir;
    private static S3ProxyProcess s3;
    private static PostgresProcess postgres;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startServers() throws Exception {
        s3 = S3ProxyProcess.start(s3Dir);
        postgres = PostgresProcess.start(postgresDir);
    }

    @AfterAll
    static void stopServers() throws Exception {
        s3.close();
        postgres.close();
    }

    /**
     * The broker settings of a new cluster: a new bucket, its objects there under the prefix {@code cluster-a/},
     * and a new database.
     */
    private static Map<String, String> newCluster() throws Exception {
        Map<String, String> settings = newBucket();
        settings.put("metadata.store.url", postgres.createDatabase("weir_" + BUCKETS.get()));
        settings.put("metadata.store.user", PostgresProcess.USER);
        return settings;
    }

    /** A new bucket, and the broker settings that put its objects there under the prefix {@code cluster-a/}. */
    private static Map<String, String> newBucket() {
        String bucket = "weir-" + BUCKETS.incrementAndGet();
        try (S3Client client = s3.client()) {
            client.createBucket(request -> request.bucket(bucket));
        }
        Map<String, String> settings = new HashMap<>();
        settings.put("object.store.url", "s3://" + bucket + "/cluster-a");
        settings.put("s3.endpoint", s3.endpoint().toString());
        settings.put("s3.path.style.access", "true");
        settings.put("s3.access.key", S3ProxyProcess.ACCESS_KEY);
        settings.put("s3.secret.key", S3ProxyProcess.SECRET_KEY);
        settings.put("s3.wal.object.max.age.ms", "20");
        settings.put("log.merge.interval.ms", "3600000");
        settings.put("log.merge.min.age.ms", "0");
        return settings;
    }

    private static List<String> keys(String bucket, String prefix) {
        try (S3Client client = s3.client()) {
            return client.listObjectsV2Paginator(request -> request.bucket(bucket).prefix(prefix)).contents().stream()
                .map(object -> object.key()).toList();
        }
    }

    private static List<TopicPartition> partitions(String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(topic, p));
        }
        return partitions;
    }

    /** Sends {@code count} records round the partitions, idempotent with acks=all, and waits for every acknowledgement. */
    private static void produce(TestBroker broker, String topic, int from, int count) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
            Map.of("acks", "all", "enable.idempotence", "true", "linger.ms", "5"))) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, i % PARTITIONS, "k" + i, "v" + i)));
            }
            for (Future<RecordMetadata> acknowledged : sent) {
                acknowledged.get();
            }
        }
    }

    /** Every record reads back once, in the order it was sent to its partition, at offsets from 0. */
    private static void assertReadsBack(TestBroker broker, String topic, int count) {
        List<ConsumerRecord<String, String>> records = Clients.readToEnd(broker.clientProperties(), partitions(topic));
        assertThat(records).hasSize(count);
        for (int p = 0; p < PARTITIONS; p++) {
            int partition = p;
            List<String> values = records.stream().filter(record -> record.partition() == partition)
                .map(ConsumerRecord::value).toList();
            List<String> expected = new ArrayList<>();
            for (int i = partition; i < count; i += PARTITIONS) {
                expected.add("v" + i);
            }
            assertThat(values).as("partition %d", partition).isEqualTo(expected);
            assertThat(records.stream().filter(record -> record.partition() == partition).map(ConsumerRecord::offset).toList())
                .as("offsets of partition %d", partition)
                .isEqualTo(java.util.stream.LongStream.range(0, expected.size()).boxed().toList());
        }
    }

    @Test
    void recordsReadBackInOrderAfterMergingAndOnABrokerWithAnotherDataDirectory(@TempDir Path otherDataDir)
        throws Exception {
        Map<String, String> settings = newCluster();
        String bucket = settings.get("object.store.url").substring("s3://".length()).split("/")[0];
        try (TestBroker broker = new TestBroker(dataDir, settings);
             Admin admin = Admin.create(broker.clientProperties())) {
            // Retention by size: merging copies every batch into segments rather than keeping some in place.
            admin.createTopics(List.of(new NewTopic("orders", PARTITIONS, (short) 1)
                .configs(Map.of("retention.bytes", "1000000000")))).all().get();
            produce(broker, "orders", 0, 3_000);
            assertThat(keys(bucket, "cluster-a/wal/")).as("WAL objects, each an object of its own").isNotEmpty();
            assertThat(keys(bucket, "cluster-a/cluster/id")).hasSize(1);
            assertReadsBack(broker, "orders", 3_000);

            broker.mergeNow();
            assertThat(keys(bucket, "cluster-a/segment/")).as("segments merged from the WAL objects").isNotEmpty();
            assertReadsBack(broker, "orders", 3_000);
        }
        try (TestBroker restarted = new TestBroker(otherDataDir, settings)) {
            assertReadsBack(restarted, "orders", 3_000);
            produce(restarted, "orders", 3_000, 1_500);
            assertReadsBack(restarted, "orders", 4_500);
        }
    }

    @Test
    void twoBrokersOnOneStoreAndDatabaseServeEachOthersRecordsInOneOrder(@TempDir Path otherDataDir) throws Exception {
        Map<String, String> settings = newCluster();
        Map<String, String> otherSettings = new HashMap<>(settings);
        otherSettings.put("node.id", "1");
        try (TestBroker first = new TestBroker(dataDir, settings);
             Admin admin = Admin.create(first.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("shared", PARTITIONS, (short) 1))).all().get();
            try (TestBroker second = new TestBroker(otherDataDir, otherSettings);
                 KafkaConsumer<String, String> tailing = Clients.consumer(second.clientProperties(),
                     Map.of("enable.auto.commit", "false", "fetch.max.wait.ms", "10000"))) {
                // A consumer of the second broker, waiting at the end of the log before anything is produced: only
                // the first broker's commits, noticed through the database, can wake it.
                tailing.assign(partitions("shared"));
                tailing.seekToBeginning(partitions("shared"));
                List<ConsumerRecord<String, String>> seen = new ArrayList<>();
                tailing.poll(java.time.Duration.ofMillis(200)).forEach(seen::add);
                produce(first, "shared", 0, 900);
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                    tailing.poll(java.time.Duration.ofMillis(100)).forEach(seen::add);
                    return seen.size() >= 900;
                });
                assertThat(seen).hasSize(900);

                // Both brokers now write the same partitions at once: the database orders their commits.
                Thread other = new Thread(() -> {
                    try {
                        produce(second, "shared", 900, 900);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                other.start();
                produce(first, "shared", 1_800, 900);
                other.join();
                List<ConsumerRecord<String, String>> viaFirst = Clients.readToEnd(first.clientProperties(), partitions("shared"));
                List<ConsumerRecord<String, String>> viaSecond = Clients.readToEnd(second.clientProperties(),
                    partitions("shared"));
                assertThat(viaFirst).hasSize(2_700);
                // Each partition alike through either (how partitions interleave depends on which broker leads which).
                java.util.Comparator<ConsumerRecord<String, String>> byPosition = java.util.Comparator
                    .comparingInt((ConsumerRecord<String, String> record) -> record.partition())
                    .thenComparingLong(ConsumerRecord::offset);
                assertThat(viaSecond.stream().sorted(byPosition)
                    .map(record -> record.partition() + "@" + record.offset() + "=" + record.value()))
                    .containsExactlyElementsOf(viaFirst.stream().sorted(byPosition)
                        .map(record -> record.partition() + "@" + record.offset() + "=" + record.value()).toList());
                for (int p = 0; p < PARTITIONS; p++) {
                    int partition = p;
                    List<ConsumerRecord<String, String>> records = viaFirst.stream()
                        .filter(record -> record.partition() == partition).toList();
                    assertThat(records.stream().map(ConsumerRecord::offset).toList()).as("offsets of partition %d", p)
                        .isEqualTo(java.util.stream.LongStream.range(0, records.size()).boxed().toList());
                    // Each producer's records keep the order it sent them in.
                    for (int[] range : new int[][] {{0, 900}, {900, 1_800}, {1_800, 2_700}}) {
                        List<Integer> sent = records.stream().map(record -> Integer.parseInt(record.value().substring(1)))
                            .filter(i -> i >= range[0] && i < range[1]).toList();
                        assertThat(sent).isSorted();
                    }
                }
            }
        }
    }

    @Test
    void retentionMovesTheLogStartAndDeletesTheObjectsFromTheBucketAfterTheDelay() throws Exception {
        Map<String, String> settings = newCluster();
        settings.put("log.retention.check.interval.ms", "3600000");
        String bucket = settings.get("object.store.url").substring("s3://".length()).split("/")[0];
        MutableClock clock = new MutableClock(System.currentTimeMillis());
        TopicPartition partition = new TopicPartition("retained", 0);
        try (TestBroker broker = new TestBroker(dataDir, settings, clock);
             Admin admin = Admin.create(broker.clientProperties());
             KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(), Map.of("acks", "all"))) {
            admin.createTopics(List.of(new NewTopic("retained", 1, (short) 1)
                .configs(Map.of("retention.ms", "3600000")))).all().get();
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("retained", 0, clock.millis(), "k" + i, "old")).get();
            }
            List<String> oldObjects = keys(bucket, "cluster-a/wal/");
            clock.advance(java.time.Duration.ofHours(2));
            for (int i = 10; i < 15; i++) {
                producer.send(new ProducerRecord<>("retained", 0, clock.millis(), "k" + i, "new")).get();
            }

            broker.enforceRetentionNow();
            assertThat(admin.listOffsets(Map.of(partition, OffsetSpec.earliest())).partitionResult(partition).get()
                .offset()).isEqualTo(10);
            assertThat(keys(bucket, "cluster-a/wal/")).as("kept for log.segment.delete.delay.ms").containsAll(oldObjects);
            clock.advance(java.time.Duration.ofMinutes(2));
            broker.enforceRetentionNow();
            assertThat(keys(bucket, "cluster-a/wal/")).doesNotContainAnyElementsOf(oldObjects);
            assertThat(Clients.readToEnd(broker.clientProperties(), List.of(partition))).extracting(ConsumerRecord::value)
                .containsExactly("new", "new", "new", "new", "new");
        }
    }

    @Test
    void aBrokerWhoseDatabaseIsOfAnotherClusterRefusesTheBucket(@TempDir Path otherDataDir) throws Exception {
        Map<String, String> settings = newCluster();
        try (TestBroker first = new TestBroker(dataDir, settings);
             Admin admin = Admin.create(first.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("first", PARTITIONS, (short) 1))).all().get();
            produce(first, "first", 0, 30);
        }
        Map<String, String> otherDatabase = new HashMap<>(settings);
        otherDatabase.put("metadata.store.url", postgres.createDatabase("weir_other_" + BUCKETS.get()));
        assertThatThrownBy(() -> new TestBroker(otherDataDir, otherDatabase).close())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("holds the objects of cluster")
            .hasMessageContaining(otherDatabase.get("metadata.store.url"));
        Map<String, String> sqlite = new HashMap<>(settings);
        sqlite.remove("metadata.store.url");
        assertThatThrownBy(() -> new TestBroker(otherDataDir.resolve("sqlite"), sqlite).close())
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining(otherDataDir.resolve("sqlite").resolve("metadata.db").toString());
        try (TestBroker again = new TestBroker(dataDir, settings)) {
            assertReadsBack(again, "first", 30);
        }
    }

    /**
     * Two brokers on one store and database: what an administrator changes through one (a topic created,
     * its partitions grown, records deleted, a config set, the topic deleted) the other takes in by itself,
     * heard of through the database's notices, and serves.
     */
    @Test
    void aBrokerTakesInTheTopicChangesMadeThroughAnother(@TempDir Path otherDataDir) throws Exception {
        Map<String, String> settings = newCluster();
        Map<String, String> otherSettings = new HashMap<>(settings);
        otherSettings.put("node.id", "1");
        TopicPartition first = new TopicPartition("elsewhere", 0);
        java.time.Duration patience = java.time.Duration.ofSeconds(30);
        try (TestBroker one = new TestBroker(dataDir, settings);
             TestBroker other = new TestBroker(otherDataDir, otherSettings);
             Admin viaOne = Admin.create(one.clientProperties());
             Admin viaOther = Admin.create(other.clientProperties())) {
            viaOne.createTopics(List.of(new NewTopic("elsewhere", PARTITIONS, (short) 1))).all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions()
                .until(() -> viaOther.listTopics().names().get().contains("elsewhere"));
            produce(other, "elsewhere", 0, 40);
            assertReadsBack(one, "elsewhere", 40);

            viaOne.createPartitions(Map.of("elsewhere", org.apache.kafka.clients.admin.NewPartitions.increaseTo(PARTITIONS + 2)))
                .all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions().until(() -> viaOther.describeTopics(List.of("elsewhere"))
                .allTopicNames().get().get("elsewhere").partitions().size() == PARTITIONS + 2);

            viaOne.deleteRecords(Map.of(first, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(4))).all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions().until(() ->
                viaOther.listOffsets(Map.of(first, OffsetSpec.earliest())).partitionResult(first).get().offset() == 4);

            var resource = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "elsewhere");
            viaOne.incrementalAlterConfigs(Map.of(resource, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", "86400000"),
                org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions().until(() -> "86400000".equals(
                viaOther.describeConfigs(List.of(resource)).all().get().get(resource).get("retention.ms").value()));

            viaOne.deleteTopics(List.of("elsewhere")).all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions()
                .until(() -> !viaOther.listTopics().names().get().contains("elsewhere"));
            viaOther.createTopics(List.of(new NewTopic("elsewhere", 1, (short) 1))).all().get();
            org.awaitility.Awaitility.await().atMost(patience).ignoreExceptions().until(() -> viaOne.describeTopics(List.of("elsewhere"))
                .allTopicNames().get().get("elsewhere").partitions().size() == 1);
        }
    }

    /**
     * Brokers on one database register and heartbeat: each lists every live broker in Metadata and
     * DescribeCluster, with its rack; leaders spread over them; a broker that stops leaves the lists; and a
     * broker given a node id that a running broker holds refuses to start, naming the problem.
     */
    @Test
    void brokersOnOneDatabaseSeeEachOtherAndRefuseATakenNodeId(@TempDir Path otherDataDir, @TempDir Path thirdDataDir)
        throws Exception {
        Map<String, String> settings = newCluster();
        settings.put("broker.heartbeat.interval.ms", "200");
        settings.put("broker.session.timeout.ms", "5000");
        settings.put("broker.rack", "zone-a");
        Map<String, String> otherSettings = new HashMap<>(settings);
        otherSettings.put("node.id", "1");
        otherSettings.put("broker.rack", "zone-b");
        java.time.Duration patience = java.time.Duration.ofSeconds(30);
        try (TestBroker one = new TestBroker(dataDir, settings);
             Admin viaOne = Admin.create(one.clientProperties())) {
            try (TestBroker other = new TestBroker(otherDataDir, otherSettings)) {
                org.awaitility.Awaitility.await().atMost(patience).until(() -> viaOne.describeCluster().nodes().get()
                    .stream().map(node -> node.id() + "@" + node.rack() + ":" + node.port()).sorted().toList()
                    .equals(List.of("0@zone-a:" + one.port(), "1@zone-b:" + other.port())));
                viaOne.createTopics(List.of(new NewTopic("spread", 12, (short) 1))).all().get();
                java.util.Set<Integer> leaders = new java.util.TreeSet<>();
                viaOne.describeTopics(List.of("spread")).allTopicNames().get().get("spread").partitions()
                    .forEach(partition -> leaders.add(partition.leader().id()));
                assertThat(leaders).as("leaders of 12 partitions over two brokers").containsExactly(0, 1);
                produce(one, "spread", 0, 120);
                assertReadsBack(other, "spread", 120);
                try (Admin viaOther = Admin.create(other.clientProperties())) {
                    assertThat(viaOther.describeCluster().controller().get().id()).as("controller as the other says")
                        .isEqualTo(viaOne.describeCluster().controller().get().id()).isEqualTo(0);
                    java.util.Set<Integer> coordinators = new java.util.TreeSet<>();
                    for (int group = 0; group < 20; group++) {
                        String id = "group-" + group;
                        // The group comes to be where one broker's answer sends the admin client; describing it
                        // finds it only where the other broker's answer sends it.
                        viaOne.alterConsumerGroupOffsets(id, Map.of(new TopicPartition("spread", 0),
                            new org.apache.kafka.clients.consumer.OffsetAndMetadata(1))).all().get();
                        int asOneSays = viaOne.describeConsumerGroups(List.of(id)).all().get().get(id).coordinator().id();
                        int asOtherSays = viaOther.describeConsumerGroups(List.of(id)).all().get().get(id).coordinator().id();
                        assertThat(asOtherSays).as("coordinator of %s", id).isEqualTo(asOneSays);
                        coordinators.add(asOneSays);
                    }
                    assertThat(coordinators).as("coordinators of 20 groups over two brokers").containsExactly(0, 1);
                }

                Map<String, String> sameId = new HashMap<>(otherSettings);
                assertThatThrownBy(() -> new TestBroker(thirdDataDir, sameId).close())
                    .hasMessageContaining("node.id 1 is in use by a running broker at 127.0.0.1:" + other.port());
            }
            org.awaitility.Awaitility.await().atMost(patience).until(() ->
                viaOne.describeCluster().nodes().get().stream().map(org.apache.kafka.common.Node::id).toList()
                    .equals(List.of(0)));
        }
    }
}
