package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.testing.Clients;
import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's internal topic names, answered as a Kafka 4.3.1 broker answers them: CreateTopics and
 * Metadata's auto-creation create them, Metadata reports them as internal (so clients leave them out of
 * topic lists and pattern subscriptions), and a client's produce to one gets INVALID_TOPIC_EXCEPTION.
 */
class InternalTopicsTest {
    private static final String OFFSETS = "__consumer_offsets";
    private static final String TRANSACTIONS = "__transaction_state";
    private static final String SHARE_STATE = "__share_group_state";

    @TempDir
    Path dataDir;

    @Test
    void internalTopicsAreCreatedAsInternalAndTakeNoClientsRecords() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir);
             Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(OFFSETS, 1, (short) 1), new NewTopic(TRANSACTIONS, 1, (short) 1),
                new NewTopic("ordinary", 1, (short) 1))).all().get();

            assertThat(admin.listTopics().names().get()).containsExactly("ordinary");
            assertThat(admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get())
                .containsExactlyInAnyOrder(OFFSETS, TRANSACTIONS, "ordinary");
            Map<String, TopicDescription> described = admin.describeTopics(List.of(OFFSETS, "ordinary"))
                .allTopicNames().get();
            assertThat(described.get(OFFSETS).isInternal()).isTrue();
            assertThat(described.get("ordinary").isInternal()).isFalse();

            try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
                Map.of("acks", "all", "retries", "0"))) {
                assertThatThrownBy(() -> producer.send(new ProducerRecord<>(OFFSETS, "k", "v")).get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidTopicException.class);
                assertThat(producer.send(new ProducerRecord<>("ordinary", "k", "v")).get().offset()).isZero();
            }
        }
    }

    @Test
    void metadataCreatesAnInternalTopicAsInternal() throws Exception {
        try (TestBroker broker = new TestBroker(dataDir);
             RawKafkaClient client = new RawKafkaClient(broker.port())) {
            MetadataRequestData request = new MetadataRequestData().setAllowAutoTopicCreation(true);
            request.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(SHARE_STATE));
            MetadataResponse response = (MetadataResponse) client.send(new MetadataRequest(request, (short) 12));
            MetadataResponseTopic topic = response.data().topics().find(SHARE_STATE);
            assertThat(Errors.forCode(topic.errorCode())).isEqualTo(Errors.NONE);
            assertThat(topic.isInternal()).isTrue();
            assertThat(topic.partitions()).isNotEmpty();
        }
    }
}
