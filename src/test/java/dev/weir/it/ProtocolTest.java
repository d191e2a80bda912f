package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicCollection;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.Records;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.utils.ByteUtils;
import org.apache.kafka.common.utils.Crc32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Wire-level behaviour that the Java client never exercises: exact ApiVersions, bad batches, limits. */
class ProtocolTest {
    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static RawKafkaClient client;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir, Map.of("max.partitions.per.topic", "100"));
        client = new RawKafkaClient(broker.port());
        CreateTopicsResponse created = (CreateTopicsResponse) client.send(createTopic("raw", 2, (short) 5));
        assertThat(created.data().topics().find("raw").errorCode()).isEqualTo(Errors.NONE.code());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        broker.close();
    }

    private static CreateTopicsRequest createTopic(String name, int partitions, short version) {
        CreatableTopicCollection topics = new CreatableTopicCollection();
        topics.add(new CreatableTopic().setName(name).setNumPartitions(partitions).setReplicationFactor((short) -1));
        return new CreateTopicsRequest(new CreateTopicsRequestData().setTopics(topics).setTimeoutMs(10_000), version);
    }

    private static ApiVersionsRequest apiVersions(short version) {
        return new ApiVersionsRequest(
            new ApiVersionsRequestData().setClientSoftwareName("raw").setClientSoftwareVersion("1"), version);
    }

    @Test
    void apiVersionsAdvertisesExactlyTheImplementedApis() throws Exception {
        ApiVersionsResponse response = (ApiVersionsResponse) client.send(apiVersions(ApiKeys.API_VERSIONS.latestVersion()));
        assertThat(response.data().errorCode()).isZero();
        Set<ApiKeys> advertised = response.data().apiKeys().stream().map(v -> ApiKeys.forId(v.apiKey()))
            .collect(Collectors.toSet());
        assertThat(advertised).containsExactlyInAnyOrder(ApiKeys.API_VERSIONS, ApiKeys.METADATA, ApiKeys.PRODUCE,
            ApiKeys.FETCH, ApiKeys.LIST_OFFSETS, ApiKeys.INIT_PRODUCER_ID, ApiKeys.DELETE_RECORDS,
            ApiKeys.OFFSET_FOR_LEADER_EPOCH, ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS, ApiKeys.CREATE_PARTITIONS,
            ApiKeys.DESCRIBE_CONFIGS, ApiKeys.ALTER_CONFIGS, ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.DESCRIBE_CLUSTER,
            ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP, ApiKeys.SYNC_GROUP, ApiKeys.HEARTBEAT, ApiKeys.LEAVE_GROUP,
            ApiKeys.OFFSET_COMMIT, ApiKeys.OFFSET_FETCH, ApiKeys.OFFSET_DELETE, ApiKeys.LIST_GROUPS,
            ApiKeys.DESCRIBE_GROUPS, ApiKeys.DELETE_GROUPS, ApiKeys.CONSUMER_GROUP_HEARTBEAT,
            ApiKeys.CONSUMER_GROUP_DESCRIBE);
        ApiVersion produce = response.data().apiKeys().find(ApiKeys.PRODUCE.id);
        assertThat(produce.minVersion()).as("librdkafka compresses only when Produce v0 is advertised").isZero();
        assertThat(produce.maxVersion()).isEqualTo(ApiKeys.PRODUCE.latestVersion());
        ApiVersion fetch = response.data().apiKeys().find(ApiKeys.FETCH.id);
        assertThat(fetch.minVersion()).isEqualTo(ApiKeys.FETCH.oldestVersion());
    }

    private static MemoryRecords batch(int records, int valueBytes) {
        SimpleRecord[] values = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            values[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(), new byte[valueBytes]);
        }
        return MemoryRecords.withRecords(Compression.NONE, values);
    }

    private static ProduceRequest produce(short acks, Map<Integer, MemoryRecords> partitions) {
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("raw");
        partitions.forEach((index, records) -> topic.partitionData().add(
            new ProduceRequestData.PartitionProduceData().setIndex(index).setRecords(records)));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(topic);
        return new ProduceRequest(new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000).setTopicData(topics),
            (short) 12);
    }

    @Test
    void aCorruptBatchFailsOnlyItsOwnPartition() throws Exception {
        MemoryRecords corrupt = batch(3, 10);
        ByteBuffer bytes = corrupt.buffer();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) ^ 0x7f));
        ProduceResponse response = (ProduceResponse) client.send(produce((short) -1,
            Map.of(0, batch(2, 10), 1, MemoryRecords.readableRecords(bytes), 7, batch(1, 1))));
        ProduceResponseData.TopicProduceResponse topic = response.data().responses().iterator().next();
        Map<Integer, Short> errors = topic.partitionResponses().stream().collect(Collectors.toMap(
            ProduceResponseData.PartitionProduceResponse::index, ProduceResponseData.PartitionProduceResponse::errorCode));
        assertThat(errors).containsEntry(0, Errors.NONE.code())
            .containsEntry(1, Errors.CORRUPT_MESSAGE.code())
            .containsEntry(7, Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
    }

    /** Each partition's error code in the response, by partition, failing on a partition answered twice. */
    private static Map<Integer, Errors> errorsByPartition(ProduceResponse response) {
        return response.data().responses().stream().flatMap(topic -> topic.partitionResponses().stream())
            .collect(Collectors.toMap(ProduceResponseData.PartitionProduceResponse::index,
                partition -> Errors.forCode(partition.errorCode())));
    }

    /** What the broker logged at ERROR (loggers under dev.weir) while {@code request} was sent and answered. */
    private static List<String> errorsLoggedWhile(Callable<?> request) throws Exception {
        Logger weir = (Logger) LoggerFactory.getLogger("dev.weir");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.setContext(weir.getLoggerContext());
        events.start();
        weir.addAppender(events);
        try {
            request.call();
        } finally {
            weir.detachAppender(events);
        }
        return events.list.stream().filter(event -> event.getLevel().isGreaterOrEqual(Level.ERROR))
            .map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** A copy of a batch's bytes with {@code change} made, and its CRC computed again so that only the change is wrong. */
    private static MemoryRecords changed(MemoryRecords records, Consumer<ByteBuffer> change) {
        ByteBuffer bytes = ByteBuffer.allocate(records.sizeInBytes()).put(records.buffer().duplicate()).flip();
        change.accept(bytes);
        int attributesOffset = DefaultRecordBatch.CRC_OFFSET + 4;
        long crc = Crc32C.compute(bytes, attributesOffset, bytes.limit() - attributesOffset);
        ByteUtils.writeUnsignedInt(bytes, DefaultRecordBatch.CRC_OFFSET, crc);
        return MemoryRecords.readableRecords(bytes);
    }

    @Test
    void aBatchLengthPastTheDataIsInvalidRecordForItsPartitionAlone() throws Exception {
        // 2^31 - 1 once made kafka-clients' batch iterator fail with an IllegalArgumentException, which failed the
        // whole request with UNKNOWN_SERVER_ERROR and a stack trace; a smaller excess is what Kafka answers
        // INVALID_RECORD, and so is this one.
        for (int length : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 11, 1000}) {
            MemoryRecords tooLong = changed(batch(1, 10), bytes -> bytes.putInt(Records.SIZE_OFFSET, length));
            List<String> logged = errorsLoggedWhile(() -> {
                ProduceResponse response = (ProduceResponse) client.send(produce((short) -1,
                    Map.of(0, batch(1, 10), 1, tooLong)));
                assertThat(errorsByPartition(response)).as("batch length %d", length)
                    .containsExactlyInAnyOrderEntriesOf(Map.of(0, Errors.NONE, 1, Errors.INVALID_RECORD));
                return response;
            });
            assertThat(logged).as("errors logged for batch length %d", length).isEmpty();
        }
        ProduceResponse after = (ProduceResponse) client.send(produce((short) -1, Map.of(1, batch(1, 10))));
        assertThat(errorsByPartition(after)).as("the same connection, afterwards").containsEntry(1, Errors.NONE);
    }

    @Test
    void aBatchNamingNoKnownCompressionCodecIsCorruptMessageForItsPartitionAlone() throws Exception {
        // Codec ids 5 to 7 name nothing; kafka-clients throws an IllegalArgumentException when asked for the codec.
        for (int codec = 5; codec <= 7; codec++) {
            int id = codec;
            MemoryRecords unknownCodec = changed(batch(2, 10), bytes -> {
                int attributesOffset = DefaultRecordBatch.CRC_OFFSET + 4;
                bytes.putShort(attributesOffset, (short) ((bytes.getShort(attributesOffset) & ~0x07) | id));
            });
            List<String> logged = errorsLoggedWhile(() -> {
                ProduceResponse response = (ProduceResponse) client.send(produce((short) -1,
                    Map.of(0, unknownCodec, 1, batch(1, 10))));
                assertThat(errorsByPartition(response)).as("compression codec %d", id)
                    .containsExactlyInAnyOrderEntriesOf(Map.of(0, Errors.CORRUPT_MESSAGE, 1, Errors.NONE));
                return response;
            });
            assertThat(logged).as("errors logged for compression codec %d", id).isEmpty();
        }
        ProduceResponse after = (ProduceResponse) client.send(produce((short) -1, Map.of(0, batch(1, 10))));
        assertThat(errorsByPartition(after)).as("the same connection, afterwards").containsEntry(0, Errors.NONE);
    }

    private static ProduceRequestData.TopicProduceData rawTopic(int partition, MemoryRecords... batches) {
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("raw");
        for (MemoryRecords batch : batches) {
            topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(batch));
        }
        return topic;
    }

    private static ProduceResponse produceEntries(ProduceRequestData.TopicProduceData... entries) throws Exception {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        for (ProduceRequestData.TopicProduceData entry : entries) {
            topics.add(entry);
        }
        return (ProduceResponse) client.send(new ProduceRequest(new ProduceRequestData().setAcks((short) -1)
            .setTimeoutMs(10_000).setTopicData(topics), (short) 12));
    }

    private static long baseOffsetOfOneMoreRecord(int partition) throws Exception {
        ProduceResponse response = produceEntries(rawTopic(partition, batch(1, 1)));
        return response.data().responses().iterator().next().partitionResponses().get(0).baseOffset();
    }

    @Test
    void aPartitionNamedTwiceIsAppendedAndAnsweredOnceWithItsLastBatchAsKafkaDoes() throws Exception {
        // Kafka keys a request's batches by partition (KafkaApis.handleProduceRequest), so the last batch named
        // for a partition is the one appended and answered; a Kafka 4.3.1 broker answers so.
        for (boolean inTwoTopicEntries : new boolean[] {false, true}) {
            long start = baseOffsetOfOneMoreRecord(0) + 1;
            ProduceResponse response = inTwoTopicEntries
                ? produceEntries(rawTopic(0, batch(1, 1)), rawTopic(0, batch(3, 1)))
                : produceEntries(rawTopic(0, batch(1, 1), batch(3, 1)));
            assertThat(response.data().responses()).as("one answer per topic").hasSize(1);
            List<ProduceResponseData.PartitionProduceResponse> answers =
                response.data().responses().iterator().next().partitionResponses();
            assertThat(answers).as("one answer per partition").hasSize(1);
            assertThat(answers.get(0).errorCode()).isZero();
            assertThat(answers.get(0).baseOffset()).isEqualTo(start);
            assertThat(baseOffsetOfOneMoreRecord(0)).as("only the last batch, of three records, was appended")
                .isEqualTo(start + 3);
        }
    }

    @Test
    void badAcksGetInvalidRequiredAcks() throws Exception {
        ProduceResponse response = (ProduceResponse) client.send(produce((short) 2, Map.of(0, batch(1, 1))));
        assertThat(response.data().responses().iterator().next().partitionResponses().get(0).errorCode())
            .isEqualTo(Errors.INVALID_REQUIRED_ACKS.code());
    }

    @Test
    void aFetchReturnsAWholeBatchLargerThanItsLimitsAndExclusiveHighWatermark() throws Exception {
        client.send(createTopic("big", 1, (short) 5));
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("big");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(batch(5, 4000)));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(topic);
        client.send(new ProduceRequest(new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000)
            .setTopicData(topics), (short) 12));
        FetchRequestData.FetchTopic fetchTopic = new FetchRequestData.FetchTopic().setTopic("big");
        fetchTopic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
            .setPartitionMaxBytes(100));
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(100)
            .setIsolationLevel((byte) 1).setSessionEpoch(-1).setTopics(List.of(fetchTopic));
        FetchResponse response = (FetchResponse) client.send(new FetchRequest(data, (short) 12));
        FetchResponseData.PartitionData partition = response.data().responses().get(0).partitions().get(0);
        assertThat(partition.errorCode()).isZero();
        assertThat(partition.highWatermark()).isEqualTo(5);
        assertThat(partition.lastStableOffset()).isEqualTo(5);
        assertThat(partition.abortedTransactions()).isEmpty();
        assertThat(((MemoryRecords) partition.records()).sizeInBytes()).isGreaterThan(20_000);
    }

    @Test
    void invalidNamesAndTooManyPartitionsGetKafkaErrors() throws Exception {
        CreateTopicsResponse tooMany = (CreateTopicsResponse) client.send(createTopic("many", 101, (short) 5));
        assertThat(tooMany.data().topics().find("many").errorCode()).isEqualTo(Errors.INVALID_PARTITIONS.code());
        String longName = "x".repeat(250);
        CreateTopicsResponse tooLong = (CreateTopicsResponse) client.send(createTopic(longName, 1, (short) 5));
        assertThat(tooLong.data().topics().find(longName).errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
        CreateTopicsResponse badChars = (CreateTopicsResponse) client.send(createTopic("a/b", 1, (short) 5));
        assertThat(badChars.data().topics().find("a/b").errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
        CreateTopicsResponse zero = (CreateTopicsResponse) client.send(createTopic("zero", 0, (short) 5));
        assertThat(zero.data().topics().find("zero").errorCode()).isEqualTo(Errors.INVALID_PARTITIONS.code());

        MetadataRequestData metadata = new MetadataRequestData().setAllowAutoTopicCreation(true)
            .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName("bad name!")));
        MetadataResponse response = (MetadataResponse) client.send(new MetadataRequest(metadata, (short) 12));
        assertThat(response.data().topics().iterator().next().errorCode()).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION.code());
        assertThat(response.data().brokers().iterator().next().port()).isEqualTo(broker.port());
    }

    @Test
    void aFailedProduceWithAcksZeroClosesTheConnectionAsKafkaDoes() throws Exception {
        try (RawKafkaClient acksZero = new RawKafkaClient(broker.port())) {
            acksZero.sendWithoutResponse(produce((short) 0, Map.of(0, batch(1, 1))));
            acksZero.sendWithoutResponse(produce((short) 0, Map.of(42, batch(1, 1))));
            assertThat(acksZero.readUntilClosed()).as("the broker closed the connection").isTrue();
        }
        ProduceResponse stillServing = (ProduceResponse) client.send(produce((short) -1, Map.of(0, batch(1, 1))));
        assertThat(stillServing.data().responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();
    }

    @Test
    void anAcksZeroBatchThatFailsWhenCommittedClosesTheConnection() throws Exception {
        // A producer's first batch must start at sequence 0: this one is valid on arrival and fails only
        // when its commit checks the producer's sequences, after the request was read.
        MemoryRecords outOfOrder = MemoryRecords.withIdempotentRecords(Compression.NONE, 4242L, (short) 0, 5,
            new SimpleRecord("late".getBytes()));
        try (RawKafkaClient acksZero = new RawKafkaClient(broker.port())) {
            acksZero.sendWithoutResponse(produce((short) 0, Map.of(1, outOfOrder)));
            assertThat(acksZero.readUntilClosed()).as("the broker closed the connection").isTrue();
        }
        MemoryRecords inOrder = MemoryRecords.withIdempotentRecords(Compression.NONE, 4243L, (short) 0, 0,
            new SimpleRecord("first".getBytes()));
        try (RawKafkaClient acksZero = new RawKafkaClient(broker.port())) {
            acksZero.sendWithoutResponse(produce((short) 0, Map.of(1, inOrder)));
            ApiVersionsResponse after = (ApiVersionsResponse) acksZero.send(apiVersions((short) 3));
            assertThat(after.data().errorCode()).as("a good acks=0 batch leaves the connection open").isZero();
        }
    }
}
