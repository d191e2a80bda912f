package dev.weir.it;

import static dev.weir.testing.ToolRunner.CONSOLE_CONSUMER;
import static dev.weir.testing.ToolRunner.CONSOLE_PRODUCER;
import static dev.weir.testing.ToolRunner.CONSUMER_GROUP_COMMAND;
import static dev.weir.testing.ToolRunner.TOPIC_COMMAND;
import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import dev.weir.testing.ToolRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka's own tools with consumer groups: the seed flow (kafka-topics, kafka-console-producer,
 * kafka-console-consumer --from-beginning, which joins a random group) and kafka-consumer-groups
 * --describe, --reset-offsets and --delete, each in its own JVM.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsumerGroupToolsTest {

    @TempDir
    static Path dataDir;
    @TempDir
    static Path toolDir;
    static TestBroker broker;
    static ToolRunner tools;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir);
        tools = new ToolRunner(toolDir, Duration.ofSeconds(60), List.of("-Xmx256m"));
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static ToolRunner.Result ok(ToolRunner.Result result) {
        assertThat(result.exitCode()).as(result.describe()).isZero();
        return result;
    }

    @Test
    @Order(1)
    void seedFlowPrintsTheThreeLinesFromTheBeginning() throws Exception {
        ok(tools.run(TOPIC_COMMAND, "--bootstrap-server", broker.bootstrap(), "--create", "--partitions", "3",
            "--topic", "test1"));
        ok(tools.runWithInput(CONSOLE_PRODUCER, "first line\nsecond line\nthird line\n",
            "--bootstrap-server", broker.bootstrap(),
            "--topic", "test1"));
        ToolRunner.Result consumed = ok(tools.run(CONSOLE_CONSUMER, "--bootstrap-server", broker.bootstrap(),
            "--topic", "test1", "--from-beginning", "--max-messages", "3"));
        assertThat(consumed.stdout().lines().toList()).as(consumed.describe())
            .containsExactlyInAnyOrder("first line", "second line", "third line");
    }

    @Test
    @Order(2)
    void consumerGroupsDescribeShowsOffsetsAndLag() throws Exception {
        ok(tools.runWithInput(CONSOLE_PRODUCER, "a\nb\nc\nd\ne\n",
            "--bootstrap-server", broker.bootstrap(), "--topic", "test1"));
        try (KafkaConsumer<String, String> consumer = groupConsumer("lag-group")) {
            consumer.assign(List.of(new TopicPartition("test1", 0), new TopicPartition("test1", 1),
                new TopicPartition("test1", 2)));
            consumer.seekToBeginning(consumer.assignment());
            consumer.commitSync(Map.of(new TopicPartition("test1", 0), new OffsetAndMetadata(0),
                new TopicPartition("test1", 1), new OffsetAndMetadata(0),
                new TopicPartition("test1", 2), new OffsetAndMetadata(0)));
        }
        ToolRunner.Result described = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--describe",
            "--group", "lag-group"));
        long totalLag = 0;
        long totalEnd = 0;
        List<String> rows = new ArrayList<>();
        for (String line : described.stdout().lines().toList()) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 6 && columns[1].equals("test1")) {
                rows.add(line);
                assertThat(columns[3]).as(described.describe()).isEqualTo("0");
                totalEnd += Long.parseLong(columns[4]);
                totalLag += Long.parseLong(columns[5]);
            }
        }
        assertThat(described.stdout()).contains("CURRENT-OFFSET", "LOG-END-OFFSET", "LAG");
        assertThat(rows).as(described.describe()).hasSize(3);
        assertThat(totalEnd).isEqualTo(8);
        assertThat(totalLag).isEqualTo(8);
    }

    @Test
    @Order(3)
    void resetOffsetsMovesTheGroupToTheEnd() throws Exception {
        ToolRunner.Result reset = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--reset-offsets",
            "--group", "lag-group", "--topic", "test1", "--to-latest", "--execute"));
        assertThat(reset.stdout()).as(reset.describe()).contains("test1");
        try (Admin admin = Admin.create(broker.clientProperties())) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("lag-group")
                .partitionsToOffsetAndMetadata().get();
            assertThat(offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(8);
        }
        ToolRunner.Result described = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--describe",
            "--group", "lag-group"));
        for (String line : described.stdout().lines().toList()) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 6 && columns[1].equals("test1")) {
                assertThat(columns[5]).as(described.describe()).isEqualTo("0");
            }
        }
    }

    @Test
    @Order(4)
    void listAndDeleteGroups() throws Exception {
        ToolRunner.Result listed = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--list"));
        assertThat(listed.stdout().lines().toList()).as(listed.describe()).contains("lag-group");
        ToolRunner.Result deleted = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--delete",
            "--group", "lag-group"));
        assertThat(deleted.stdout()).as(deleted.describe()).contains("lag-group");
        ToolRunner.Result after = ok(tools.run(CONSUMER_GROUP_COMMAND,
            "--bootstrap-server", broker.bootstrap(), "--list"));
        assertThat(after.stdout().lines().toList()).as(after.describe()).doesNotContain("lag-group");
    }

    private static KafkaConsumer<String, String> groupConsumer(String group) {
        return Clients.consumer(broker.clientProperties(), Map.of("group.id", group, "enable.auto.commit", "false"));
    }
}
