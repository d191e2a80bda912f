package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.testing.Clients;
import dev.weir.testing.DataDirectory;
import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stored batch whose bytes went bad on disk: by default it is sent from its file as it is and the
 * client's CRC check (check.crcs) rejects it; with fetch.verify.crc=true the broker checks it first
 * and answers KAFKA_STORAGE_ERROR. Either way no corrupt record reaches the application.
 */
class CorruptBatchTest {
    private static final TopicPartition PARTITION = new TopicPartition("corrupt", 0);

    @TempDir
    Path dataDir;

    /** Produces one batch of about 60 kB (sent from its file) and flips a byte inside its records. */
    private void produceAndCorrupt(TestBroker broker) throws Exception {
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
            Map.of("acks", "all", "linger.ms", "1000", "batch.size", "131072"))) {
            for (int i = 0; i < 60; i++) {
                producer.send(new ProducerRecord<>(PARTITION.topic(), 0, "k", i + "p".repeat(1000)));
            }
            producer.flush();
        }
        String object = DataDirectory.committedWalFiles(dataDir).get(0);
        DataDirectory.damageByte(dataDir.resolve("objects").resolve(object),
            DataDirectory.committedBytes(dataDir, object) - 500);
    }

    @Test
    void theClientRejectsABatchSentFromItsFile() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("log.merge.interval.ms", "3600000"))) {
            produceAndCorrupt(broker);
            try (KafkaConsumer<String, String> consumer = Clients.consumer(broker.clientProperties(), Map.of())) {
                consumer.assign(List.of(PARTITION));
                consumer.seekToBeginning(List.of(PARTITION));
                assertThatThrownBy(() -> {
                    for (int i = 0; i < 50; i++) {
                        assertThat(consumer.poll(Duration.ofMillis(100))).as("no corrupt record is returned").isEmpty();
                    }
                }).isInstanceOf(KafkaException.class).hasMessageContaining("corrupt");
            }
        }
    }

    @Test
    void withFetchVerifyCrcTheBrokerAnswersKafkaStorageError() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir, Map.of("log.merge.interval.ms", "3600000",
            "fetch.verify.crc", "true"));
             RawKafkaClient raw = new RawKafkaClient(broker.port())) {
            produceAndCorrupt(broker);
            FetchRequest request = FetchRequest.Builder.forConsumer((short) 12, 0, 1, Map.of(PARTITION,
                new FetchRequest.PartitionData(org.apache.kafka.common.Uuid.ZERO_UUID, 0, 0, 1 << 20, Optional.empty())))
                .build((short) 12);
            FetchResponse response = (FetchResponse) raw.send(request);
            var partition = response.data().responses().get(0).partitions().get(0);
            assertThat(Errors.forCode(partition.errorCode())).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        }
    }
}
