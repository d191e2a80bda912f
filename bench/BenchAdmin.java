import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Set-up step of bench/run, compiled once per run against Kafka's client jars:
 *
 * <pre>javac -d CLASSES -cp 'bench/target/kafka-lib/*' bench/BenchAdmin.java
 *     java -cp 'CLASSES:bench/target/kafka-lib/*' BenchAdmin BOOTSTRAP TOPIC:PARTITIONS ...</pre>
 *
 * Creates every topic (replication factor 1) in one JVM, which is much quicker than one kafka-topics
 * run per topic, then waits until every partition of every topic has a leader, so that the measured
 * workloads that follow never include topic creation. Exits non-zero on any failure or after 60 s.
 */
public final class BenchAdmin {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: BenchAdmin BOOTSTRAP TOPIC:PARTITIONS ...");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        List<NewTopic> topics = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String[] parts = args[i].split(":");
            topics.add(new NewTopic(parts[0], Integer.parseInt(parts[1]), (short) 1));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try (Admin admin = Admin.create(props)) {
            for (NewTopic topic : topics) {
                try {
                    admin.createTopics(List.of(topic)).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            for (NewTopic topic : topics) {
                while (true) {
                    if (ready(admin, topic)) {
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        System.err.println("BenchAdmin: topic " + topic.name() + " has no leader for every partition after 60 s");
                        System.exit(1);
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    private static boolean ready(Admin admin, NewTopic topic) {
        try {
            Map<String, TopicDescription> described = admin.describeTopics(List.of(topic.name())).allTopicNames().get();
            TopicDescription description = described.get(topic.name());
            if (description == null || description.partitions().size() != topic.numPartitions()) {
                return false;
            }
            for (TopicPartitionInfo partition : description.partitions()) {
                if (partition.leader() == null || partition.leader().isEmpty()) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
