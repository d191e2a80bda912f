package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.Clients;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small socket buffers hold responses and requests back, and lose nothing. */
class SocketBufferTest {
    @TempDir
    Path dataDir;

    @Test
    void smallSocketBuffersStillCarryEveryRecord() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir,
                 Map.of("socket.send.buffer.bytes", "32768", "socket.receive.buffer.bytes", "32768"));
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic("buffers", 2, (short) 1))).all().get();
            String value = "v".repeat(2000);
            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                Map.of("acks", "all", "batch.size", "262144", "linger.ms", "5"))) {
                for (int i = 0; i < 3000; i++) {
                    producer.send(new ProducerRecord<>("buffers", i % 2, "k" + i, value + i));
                }
                producer.flush();
            }
            List<ConsumerRecord<String, String>> records = Clients.readToEnd(broker.clientProperties(),
                List.of(new TopicPartition("buffers", 0), new TopicPartition("buffers", 1)));
            assertThat(records).hasSize(3000);
            assertThat(records).allSatisfy(record ->
                assertThat(record.value()).isEqualTo(value + record.key().substring(1)));
        }
    }
}
