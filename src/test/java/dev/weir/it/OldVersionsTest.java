package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.RawKafkaClient;
import dev.weir.testing.TestBroker;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition;
import org.apache.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every advertised version of the APIs whose responses carry version-dependent fields is answered
 * (a field set at a version that lacks it would make the broker close the connection instead).
 * librdkafka, kafkajs and kafka-python use old versions of ListOffsets, Metadata and DescribeGroups.
 */
class OldVersionsTest {
    @TempDir
    static Path dataDir;
    static TestBroker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static AbstractResponse send(AbstractRequest request) throws Exception {
        try (RawKafkaClient client = new RawKafkaClient(broker.port())) {
            return client.send(request);
        }
    }

    private static ApiVersion range(ApiKeys api) throws Exception {
        ApiVersionsResponse versions = (ApiVersionsResponse) send(new ApiVersionsRequest(new ApiVersionsRequestData()
            .setClientSoftwareName("old").setClientSoftwareVersion("1"), (short) 3));
        return versions.data().apiKeys().find(api.id);
    }

    @Test
    void listOffsetsAnswersEveryVersion() throws Exception {
        ApiVersion range = range(ApiKeys.LIST_OFFSETS);
        for (short version = range.minVersion(); version <= range.maxVersion(); version++) {
            ListOffsetsRequestData data = new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                new ListOffsetsTopic().setName("auto-made").setPartitions(List.of(
                    new ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-2)))));
            ListOffsetsResponse response = (ListOffsetsResponse) send(ListOffsetsRequest.parse(
                org.apache.kafka.common.protocol.MessageUtil.toByteBufferAccessor(data, version), version));
            assertThat(response.data().topics()).as("v%d", version).hasSize(1);
        }
    }

    @Test
    void describeGroupsAnswersEveryVersion() throws Exception {
        ApiVersion range = range(ApiKeys.DESCRIBE_GROUPS);
        for (short version = range.minVersion(); version <= range.maxVersion(); version++) {
            AbstractResponse response = send(new DescribeGroupsRequest.Builder(new DescribeGroupsRequestData()
                .setGroups(List.of("nobody"))).build(version));
            assertThat(response).as("v%d", version).isNotNull();
        }
    }
}
