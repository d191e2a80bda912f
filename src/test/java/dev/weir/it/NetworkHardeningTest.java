package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.testing.BrokerProcess;
import dev.weir.testing.Clients;
import dev.weir.testing.RawKafkaClient;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile or broken peer could do to the network layer and the fetch path, each tried through
 * real sockets against a broker in its own JVM, and each followed by a real client that must be served:
 * frames declared large and never sent, connections that stall or idle, fetches that name a partition
 * many times, responses left unread, refused connections, and client ids that try to forge log lines.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NetworkHardeningTest {
    private static final String TOPIC = "hardening";
    private static final int RECORDS = 8_000;
    private static final int RECORD_BYTES = 1_000;

    @TempDir
    static Path dir;
    private static BrokerProcess broker;

    @BeforeAll
    static void start() throws Exception {
        // Long stall and idle timeouts, so the tests below see the memory rules rather than the timeouts; 96 MiB of
        // direct memory, of which fetch responses may hold 32 MiB and idle pooled buffers 8 MiB, so that responses
        // held without a bound would run out of it.
        List<String> jvmOptions = new ArrayList<>(BrokerProcess.DEFAULT_JVM_OPTIONS);
        jvmOptions.add("-XX:MaxDirectMemorySize=96m");
        broker = new BrokerProcess(dir.resolve("data"), dir.resolve("broker.log"),
            Map.of("socket.request.stall.timeout.ms", "600000", "max.connections", "200",
                "queued.max.response.bytes", String.valueOf(32 << 20), "fetch.buffer.pool.bytes", String.valueOf(8 << 20)),
            jvmOptions);
        broker.start(Duration.ofSeconds(60));
        try (Admin admin = Admin.create(broker.clientProperties())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
        // Small batches, which fetches copy into memory rather than send from their files.
        try (KafkaProducer<String, String> producer = Clients.producer(broker.clientProperties(),
            Map.of("linger.ms", "0", "batch.size", "4096", "acks", "1"))) {
            String value = "v".repeat(RECORD_BYTES);
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(TOPIC, 0, "k" + i, value));
            }
            producer.flush();
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void framesDeclaredLargeAndNeverSentDoNotStopOtherClients() throws Exception {
        List<Socket> stalled = new ArrayList<>();
        try {
            // 256 MiB declared in all, the default queued.max.request.bytes, with 30 bytes sent.
            for (int size : new int[] {100 << 20, 100 << 20, 56 << 20}) {
                Socket socket = new Socket("127.0.0.1", broker.port());
                stalled.add(socket);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeInt(size);
                out.write(new byte[26]);
                out.flush();
            }
            assertServesApiVersions();
            assertEveryRecordIsReadBack();
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    void aFetchNamingOnePartitionTwentyThousandTimesIsAnsweredOnceWithinFetchMaxBytes() throws Exception {
        FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopic(TOPIC);
        for (int i = 0; i < 20_000; i++) {
            topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                .setPartitionMaxBytes(Integer.MAX_VALUE));
        }
        // The last mention wins, as in Kafka.
        topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(RECORDS / 2)
            .setPartitionMaxBytes(Integer.MAX_VALUE));
        FetchRequestData data = new FetchRequestData().setMaxBytes(Integer.MAX_VALUE).setMaxWaitMs(0).setMinBytes(1)
            .setReplicaId(-1).setSessionEpoch(-1).setTopics(List.of(topic));
        try (RawKafkaClient client = new RawKafkaClient(broker.port())) {
            FetchResponse response = (FetchResponse) client.send(new FetchRequest(data, (short) 12));
            List<FetchResponseData.FetchableTopicResponse> topics = response.data().responses();
            assertThat(topics).hasSize(1);
            assertThat(topics.get(0).partitions()).hasSize(1);
            FetchResponseData.PartitionData partition = topics.get(0).partitions().get(0);
            assertThat(Errors.forCode(partition.errorCode())).isEqualTo(Errors.NONE);
            MemoryRecords records = (MemoryRecords) partition.records();
            RecordBatch first = records.batches().iterator().next();
            assertThat(first.lastOffset()).isGreaterThanOrEqualTo(RECORDS / 2);
            assertThat(first.baseOffset()).isLessThanOrEqualTo(RECORDS / 2);
            assertThat(records.sizeInBytes()).isBetween(1, 55 << 20);
        }
        assertServesApiVersions();
    }

    @Test
    void responsesLeftUnreadDoNotStarveOtherConsumers() throws Exception {
        // Each connection asks for everything 32 times over and reads nothing back: without a bound, this is
        // gigabytes of direct memory held for peers that never read it.
        List<Socket> unread = new ArrayList<>();
        try {
            for (int connection = 0; connection < 40; connection++) {
                Socket socket = new Socket("127.0.0.1", broker.port());
                socket.setReceiveBufferSize(4096);
                unread.add(socket);
                OutputStream out = socket.getOutputStream();
                for (int request = 0; request < 32; request++) {
                    out.write(fetchEverythingFrame(connection * 100 + request));
                }
                out.flush();
            }
            assertServesApiVersions();
            assertEveryRecordIsReadBack();
        } finally {
            for (Socket socket : unread) {
                socket.close();
            }
        }
    }

    @Test
    void refusedConnectionsAreLoggedAtMostOnceInTenSeconds() throws Exception {
        long before = countLines("Refusing connection");
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 260; i++) {
                sockets.add(new Socket("127.0.0.1", broker.port()));
            }
            // Connections beyond max.connections (200) are closed by the broker; one of the last surely was.
            assertThat(new DataInputStream(sockets.get(sockets.size() - 1).getInputStream()).read()).isEqualTo(-1);
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        // The broker's log reaches its file through the child's standard error, so it is read until the line is there.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
            .until(() -> countLines("Refusing connection") - before >= 1);
        assertThat(countLines("Refusing connection") - before).isBetween(1L, 2L);
        assertServesApiVersions();
    }

    @Test
    void aClientIdCannotForgeALogLine() throws Exception {
        String forged = "12:00:00.000 ERROR [weir-forged] Forged - this line was written by a client";
        try (Socket socket = new Socket("127.0.0.1", broker.port())) {
            // Metadata v99 is refused with a warning that names the client id.
            ByteBuffer header = ByteBuffer.allocate(512).putShort(ApiKeys.METADATA.id).putShort((short) 99).putInt(7);
            byte[] clientId = ("evil\n" + forged).getBytes(StandardCharsets.UTF_8);
            header.putShort((short) clientId.length).put(clientId).put((byte) 0).put(new byte[] {1, 0, 0}).flip();
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(header.remaining());
            out.write(header.array(), 0, header.remaining());
            out.flush();
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        String log = Files.readString(broker.logFile());
        assertThat(log).contains("evil\\n" + forged);
        assertThat(log.lines().filter(line -> line.startsWith(forged))).isEmpty();
    }

    @Test
    void stalledAndIdleConnectionsAreClosed(@TempDir Path own) throws Exception {
        try (BrokerProcess quick = new BrokerProcess(own.resolve("data"), own.resolve("broker.log"),
            Map.of("socket.request.stall.timeout.ms", "500", "connections.max.idle.ms", "1000"))) {
            quick.start(Duration.ofSeconds(60));
            try (RawKafkaClient midFrame = new RawKafkaClient(quick.port());
                 RawKafkaClient idle = new RawKafkaClient(quick.port());
                 Socket socket = new Socket("127.0.0.1", quick.port())) {
                // A frame of 1000 bytes of which 10 arrive.
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeInt(1000);
                out.write(new byte[10]);
                out.flush();
                socket.setSoTimeout(20_000);
                assertThat(socket.getInputStream().read()).as("stalled mid-frame").isEqualTo(-1);
                assertThat(quick.logSinceStart()).contains("socket.request.stall.timeout.ms");
                // A connection that answered one request and then sat idle.
                assertThat(idle.send(apiVersions()).errorCounts())
                    .containsOnlyKeys(Errors.NONE);
                assertThat(idle.readUntilClosed()).as("idle").isTrue();
                assertThat(midFrame.readUntilClosed()).as("never sent anything").isTrue();
            }
            try (RawKafkaClient fresh = new RawKafkaClient(quick.port())) {
                assertThat(fresh.send(apiVersions()).errorCounts())
                    .containsOnlyKeys(Errors.NONE);
            }
        }
    }

    @Test
    void requestMemoryFilledByStalledFramesIsGivenBackAndOthersAreServed(@TempDir Path own) throws Exception {
        try (BrokerProcess small = new BrokerProcess(own.resolve("data"), own.resolve("broker.log"),
            Map.of("queued.max.request.bytes", String.valueOf(1 << 20), "socket.request.stall.timeout.ms", "1000"))) {
            small.start(Duration.ofSeconds(60));
            List<Socket> stalled = new ArrayList<>();
            try {
                // Three peers each send 600 KiB of a 2 MiB request and stop: together more than the 1 MiB budget.
                for (int i = 0; i < 3; i++) {
                    Socket socket = new Socket("127.0.0.1", small.port());
                    stalled.add(socket);
                    DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                    out.writeInt(2 << 20);
                    out.write(new byte[600 << 10]);
                    out.flush();
                }
                // A client waits while the budget is spent, and is served once the stalled peers are closed.
                try (RawKafkaClient client = new RawKafkaClient(small.port())) {
                    assertThat(client.send(apiVersions()).errorCounts()).containsOnlyKeys(Errors.NONE);
                }
                for (Socket socket : stalled) {
                    assertThat(closedByBroker(socket)).as("a stalled peer").isTrue();
                }
                assertThat(small.logSinceStart()).contains("socket.request.stall.timeout.ms").doesNotContain("OutOfMemory");
            } finally {
                for (Socket socket : stalled) {
                    socket.close();
                }
            }
        }
    }

    /** Whether the broker closes the connection (end of stream, or a reset for bytes it left unread) within 20 s. */
    private static boolean closedByBroker(Socket socket) throws IOException {
        socket.setSoTimeout(20_000);
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    private static byte[] fetchEverythingFrame(int correlationId) {
        FetchRequestData data = new FetchRequestData().setMaxBytes(Integer.MAX_VALUE).setMaxWaitMs(0).setMinBytes(1)
            .setReplicaId(-1).setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(TOPIC)
                .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                    .setPartitionMaxBytes(Integer.MAX_VALUE)))));
        ByteBuffer frame = new FetchRequest(data, (short) 12).serializeWithHeader(
            new RequestHeader(ApiKeys.FETCH, (short) 12, "unread", correlationId));
        return ByteBuffer.allocate(4 + frame.remaining()).putInt(frame.remaining()).put(frame).array();
    }

    private static ApiVersionsRequest apiVersions() {
        return new ApiVersionsRequest(new ApiVersionsRequestData().setClientSoftwareName("weir-test")
            .setClientSoftwareVersion("1"), (short) 3);
    }

    private static void assertServesApiVersions() throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(broker.port())) {
            ApiVersionsResponse response = (ApiVersionsResponse) client.send(
                apiVersions());
            assertThat(Errors.forCode(response.data().errorCode())).isEqualTo(Errors.NONE);
        }
    }

    private static void assertEveryRecordIsReadBack() {
        Properties properties = broker.clientProperties();
        List<ConsumerRecord<String, String>> records = Clients.readToEnd(properties,
            Collections.singletonList(new TopicPartition(TOPIC, 0)));
        assertThat(records).hasSize(RECORDS);
        assertThat(records.get(RECORDS - 1).key()).isEqualTo("k" + (RECORDS - 1));
    }

    private static long countLines(String text) throws IOException {
        return Files.readString(broker.logFile()).lines().filter(line -> line.contains(text)).count();
    }
}
