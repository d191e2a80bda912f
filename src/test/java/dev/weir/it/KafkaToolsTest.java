package dev.weir.it;

import static dev.weir.testing.ToolRunner.CONFIG_COMMAND;
import static dev.weir.testing.ToolRunner.CONSOLE_CONSUMER;
import static dev.weir.testing.ToolRunner.CONSOLE_PRODUCER;
import static dev.weir.testing.ToolRunner.TOPIC_COMMAND;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.TestBroker;
import dev.weir.testing.ToolRunner;
import dev.weir.testing.ToolRunner.Result;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka's own command-line tools, unmodified, each run as a separate JVM against a real broker. The tests
 * follow one administrator's session on topic {@code test1} and therefore run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaToolsTest {
    /** kafka-configs.sh: still part of the Scala core jar (kafka_2.13) in 4.3.1, not of kafka-tools. */

    private static final String TOPIC = "test1";
    private static final String CONSOLE_TOPIC = "console-lines";
    private static final List<String> LINES = List.of("first line", "second line", "third line");

    @TempDir
    static Path dataDir;
    @TempDir
    static Path toolDir;
    static TestBroker broker;
    static ToolRunner tools;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir);
        tools = new ToolRunner(toolDir, Duration.ofSeconds(60), List.of(
            // Start-up time dominates these short-lived JVMs.
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Result topics(String... args) throws Exception {
        return tools.run(TOPIC_COMMAND, withBootstrap(args));
    }

    private static String[] withBootstrap(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-server", broker.bootstrap()));
        all.addAll(Arrays.asList(args));
        return all.toArray(String[]::new);
    }

    private static Result succeeded(Result result) {
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    private static Result failed(Result result) {
        assertThat(result.exitCode()).as(result.describe()).isNotZero();
        return result;
    }

    /** The topic summary line and the per-partition lines of {@code kafka-topics --describe}. */
    private record Description(String summary, List<String> partitionLines) {
    }

    private static Description describe(String topic) throws Exception {
        Result result = succeeded(topics("--describe", "--topic", topic));
        String summary = null;
        List<String> partitions = new ArrayList<>();
        for (String line : result.stdout().split("\\R")) {
            if (line.startsWith("Topic: " + topic + "\t")) {
                assertThat(summary).as("a single summary line\n" + result.describe()).isNull();
                summary = line;
            } else if (line.startsWith("\tTopic: " + topic + "\tPartition: ")) {
                partitions.add(line);
            }
        }
        assertThat(summary).as("summary line\n" + result.describe()).isNotNull();
        return new Description(summary, partitions);
    }

    private static void assertPartitions(String topic, int count) throws Exception {
        Description description = describe(topic);
        String shown = description.summary() + "\n" + String.join("\n", description.partitionLines());
        assertThat(description.summary()).as(shown)
            .contains("\tPartitionCount: " + count + "\t")
            .contains("\tReplicationFactor: 1\t");
        assertThat(description.partitionLines()).as(shown).hasSize(count);
        Pattern partitionLine = Pattern.compile(
            "\tTopic: " + Pattern.quote(topic) + "\tPartition: (\\d+)\tLeader: 0\tReplicas: 0\tIsr: 0(\t.*)?");
        List<Integer> partitions = new ArrayList<>();
        for (String line : description.partitionLines()) {
            Matcher matcher = partitionLine.matcher(line);
            assertThat(matcher.matches()).as("partition line %s in\n%s", line.replace("\t", "\\t"), shown).isTrue();
            partitions.add(Integer.parseInt(matcher.group(1)));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            expected.add(i);
        }
        assertThat(partitions).as(shown).containsExactlyElementsOf(expected);
    }

    private static List<String> listedTopics() throws Exception {
        Result result = succeeded(topics("--list"));
        return result.stdout().lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
    }

    @Test
    @Order(1)
    void createsTopicWithThreePartitions() throws Exception {
        Result result = succeeded(topics("--create", "--partitions", "3", "--replication-factor", "1",
            "--topic", TOPIC));
        assertThat(result.stdout()).as(result.describe()).contains("Created topic " + TOPIC + ".");
    }

    @Test
    @Order(2)
    void describeShowsThreePartitionsLedByThisBroker() throws Exception {
        assertPartitions(TOPIC, 3);
    }

    @Test
    @Order(3)
    void listShowsTheTopic() throws Exception {
        assertThat(listedTopics()).contains(TOPIC);
    }

    @Test
    @Order(4)
    void consoleProducerSendsStandardInputLines() throws Exception {
        // (--reader-property is 4.x's name for the deprecated --property.)
        // A single partition, so every line lands in partition 0 whatever the partitioner does.
        succeeded(topics("--create", "--partitions", "1", "--replication-factor", "1", "--topic", CONSOLE_TOPIC));

        Result result = tools.runWithInput(CONSOLE_PRODUCER, String.join("\n", LINES) + "\n", withBootstrap(
            "--topic", CONSOLE_TOPIC, "--reader-property", "parse.key=false"));
        succeeded(result);
        assertThat(result.stderr()).as(result.describe()).doesNotContainIgnoringCase("error");
    }

    @Test
    @Order(5)
    void consoleConsumerPrintsTheLinesInOrder() throws Exception {
        Result result = succeeded(tools.run(CONSOLE_CONSUMER, withBootstrap(
            "--topic", CONSOLE_TOPIC, "--partition", "0", "--offset", "earliest", "--max-messages", "3",
            "--timeout-ms", "30000")));
        assertThat(result.stdout().lines().toList()).as(result.describe()).containsExactlyElementsOf(LINES);
        assertThat(result.stderr()).as(result.describe()).contains("Processed a total of 3 messages");
    }

    @Test
    @Order(6)
    void consoleConsumerPrintsOffsetsAndPartitions() throws Exception {
        Result result = succeeded(tools.run(CONSOLE_CONSUMER, withBootstrap(
            "--topic", CONSOLE_TOPIC, "--partition", "0", "--offset", "1", "--max-messages", "2",
            "--timeout-ms", "30000",
            "--formatter-property", "print.offset=true", "--formatter-property", "print.partition=true")));
        assertThat(result.stdout().lines().toList()).as(result.describe()).containsExactly(
            "Partition:0\tOffset:1\t" + LINES.get(1),
            "Partition:0\tOffset:2\t" + LINES.get(2));
    }

    @Test
    @Order(7)
    void creatingAnExistingTopicFails() throws Exception {
        Result result = failed(topics("--create", "--partitions", "3", "--replication-factor", "1",
            "--topic", TOPIC));
        assertThat(result.stdout() + result.stderr()).as(result.describe())
            .containsIgnoringCase("already exists")
            .contains(TOPIC);
    }

    @Test
    @Order(8)
    void creatingWithMoreReplicasThanBrokersFails() throws Exception {
        Result result = failed(topics("--create", "--partitions", "1", "--replication-factor", "3",
            "--topic", "three-replicas"));
        assertThat((result.stdout() + result.stderr()).toLowerCase(Locale.ROOT)).as(result.describe())
            .contains("replication factor");
        assertThat(listedTopics()).doesNotContain("three-replicas");
    }

    @Test
    @Order(9)
    void alterAddsPartitions() throws Exception {
        succeeded(topics("--alter", "--topic", TOPIC, "--partitions", "5"));
        assertPartitions(TOPIC, 5);
    }

    @Test
    @Order(10)
    void configCommandSetsRetention() throws Exception {
        succeeded(tools.run(CONFIG_COMMAND, withBootstrap("--entity-type", "topics", "--entity-name", TOPIC,
            "--alter", "--add-config", "retention.ms=3600000")));
        Result result = succeeded(tools.run(CONFIG_COMMAND, withBootstrap("--entity-type", "topics",
            "--entity-name", TOPIC, "--describe")));
        assertThat(result.stdout()).as(result.describe()).contains("retention.ms=3600000");
    }

    @Test
    @Order(11)
    void topicConfigAlteredThroughAdminShowsInDescribe() throws Exception {
        // The same IncrementalAlterConfigs request through Admin, checked on the tool side through kafka-topics,
        // which shows a topic's non-default configs.
        try (Admin admin = Admin.create(broker.clientProperties())) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)))).all().get();
        }
        Description description = describe(TOPIC);
        assertThat(description.summary()).as(description.summary().replace("\t", "\\t"))
            .matches(".*\tConfigs: (.*,)?retention\\.ms=3600000(,.*)?");
    }

    @Test
    @Order(12)
    void topicConfigGivenAtCreationShowsInDescribe() throws Exception {
        succeeded(topics("--create", "--partitions", "1", "--replication-factor", "1", "--topic", "with-retention",
            "--config", "retention.ms=3600000"));
        Description description = describe("with-retention");
        assertThat(description.summary()).as(description.summary().replace("\t", "\\t"))
            .matches(".*\tConfigs: (.*,)?retention\\.ms=3600000(,.*)?");
    }

    @Test
    @Order(13)
    void deleteRemovesTheTopic() throws Exception {
        succeeded(topics("--delete", "--topic", TOPIC));
        assertThat(listedTopics()).doesNotContain(TOPIC).contains(CONSOLE_TOPIC);
    }

    @Test
    @Order(14)
    void describingADeletedTopicFails() throws Exception {
        Result result = failed(topics("--describe", "--topic", TOPIC));
        assertThat(result.stdout() + result.stderr()).as(result.describe()).contains(TOPIC);
    }
}
