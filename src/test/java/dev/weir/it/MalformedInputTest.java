package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.weir.testing.TestBroker;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Bytes that are not Kafka requests, sent over raw sockets to a real broker: each such connection
 * must be closed by the broker (read returns -1 or the connection is reset, well before the read
 * timeout), an ApiVersions request of an unknown version must be answered in v0 form, and a healthy
 * Admin client and producer connected all along must keep working after every case.
 *
 * <p>Random bytes come from a seeded {@link Random}; the seed is printed and can be replayed with
 * {@code -Dweir.malformed.seed=<seed>}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MalformedInputTest {
    private static final String HEALTH_TOPIC = "health";
    private static final String RAW_TOPIC = "raw-produce";
    private static final int DEFAULT_MAX_REQUEST_BYTES = 104_857_600;
    /** How long a connection the broker should close may stay silent before the test calls it a hang. */
    private static final int CLOSE_TIMEOUT_MS = 5_000;
    private static final short UNSUPPORTED_VERSION = 35;

    @TempDir
    static Path dataDir;
    static TestBroker broker;
    static Admin admin;
    static KafkaProducer<String, String> producer;
    static long seed;
    static Random random;
    static final List<String> healthValues = new ArrayList<>();
    static final LogCapture brokerLog = new LogCapture();
    static final AtomicInteger correlationIds = new AtomicInteger(1000);

    /** Keeps the broker's log events (of {@code dev.weir} loggers) so the test can show and check them. */
    static final class LogCapture extends AppenderBase<ILoggingEvent> {
        final ConcurrentLinkedQueue<ILoggingEvent> events = new ConcurrentLinkedQueue<>();

        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    }

    private int logMark;

    @BeforeAll
    static void start() throws Exception {
        seed = Long.getLong("weir.malformed.seed", System.nanoTime());
        System.out.println("MalformedInputTest seed = " + seed + " (replay with -Dweir.malformed.seed=" + seed + ")");
        random = new Random(seed);
        Logger weir = (Logger) LoggerFactory.getLogger("dev.weir");
        brokerLog.setContext(weir.getLoggerContext());
        brokerLog.start();
        weir.addAppender(brokerLog);

        broker = new TestBroker(dataDir);
        admin = Admin.create(broker.clientProperties());
        admin.createTopics(List.of(new NewTopic(HEALTH_TOPIC, 1, (short) 1), new NewTopic(RAW_TOPIC, 1, (short) 1)))
            .all().get(15, TimeUnit.SECONDS);
        Properties properties = broker.clientProperties();
        properties.put("acks", "all");
        properties.put("enable.idempotence", "true");
        properties.put("linger.ms", "1");
        producer = new KafkaProducer<>(properties, new StringSerializer(), new StringSerializer());
        assertHealthy("start-up");
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (broker != null) {
            broker.close();
        }
        Logger weir = (Logger) LoggerFactory.getLogger("dev.weir");
        weir.detachAppender(brokerLog);
        brokerLog.stop();
    }

    @BeforeEach
    void markLog() {
        logMark = brokerLog.events.size();
    }

    /** Prints what the broker logged during the test, as evidence of why it closed each connection. */
    @AfterEach
    void showBrokerLog(TestInfo test) {
        List<ILoggingEvent> events = new ArrayList<>(brokerLog.events);
        List<ILoggingEvent> mine = events.subList(Math.min(logMark, events.size()), events.size());
        System.out.printf("--- %s: %d broker log events%n", test.getDisplayName(), mine.size());
        mine.stream().limit(20).forEach(event ->
            System.out.printf("    %s %s - %s%n", event.getLevel(), event.getLoggerName(), event.getFormattedMessage()));
    }

    // ---------------------------------------------------------------------------------------------
    // The cases

    @Test
    @Order(1)
    void randomBytesInACorrectlySizedFrameCloseTheConnection() throws Exception {
        for (int i = 0; i < 20; i++) {
            byte[] payload = new byte[8 + random.nextInt(2048)];
            random.nextBytes(payload);
            try (Socket socket = connect()) {
                writeIgnoringReset(socket, frame(payload));
                assertClosedByBroker(socket, "random frame #" + i + " of " + payload.length + " bytes, api key "
                    + ByteBuffer.wrap(payload).getShort());
            }
        }
        assertHealthy("random frames");
    }

    @Test
    @Order(2)
    void randomByteStreamsCloseTheConnection() throws Exception {
        for (int i = 0; i < 10; i++) {
            byte[] garbage = new byte[1 + random.nextInt(64 * 1024)];
            random.nextBytes(garbage);
            int claimedSize = garbage.length >= 4 ? ByteBuffer.wrap(garbage).getInt() : 1;
            boolean sizeAlone = claimedSize <= 0 || claimedSize > DEFAULT_MAX_REQUEST_BYTES;
            String what = "random stream #" + i + " of " + garbage.length + " bytes (first int " + claimedSize + ")";
            try (Socket socket = connect()) {
                writeIgnoringReset(socket, garbage);
                if (!sizeAlone) {
                    // A plausible size: the broker may rightly wait for the rest of that frame, so end the stream.
                    socket.shutdownOutput();
                    what += ", then end of stream";
                }
                assertClosedByBroker(socket, what);
            }
        }
        assertHealthy("random streams");
    }

    @Test
    @Order(3)
    void aFrameCutShortByTheClientIsDropped() throws Exception {
        byte[] partial = ByteBuffer.allocate(14).putInt(100).put(new byte[10]).array();
        try (Socket socket = connect()) {
            socket.getOutputStream().write(partial);
            socket.getOutputStream().flush();
            // While the rest of the frame is awaited, the broker serves everyone else.
            assertHealthy("a 100-byte frame cut after 10 bytes, connection still open");
        }
        assertHealthy("a 100-byte frame cut after 10 bytes, then close");
        // The same, ending only the client's half: the broker must not hold the connection open for ever.
        try (Socket socket = connect()) {
            socket.getOutputStream().write(partial);
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            assertClosedByBroker(socket, "100-byte frame cut after 10 bytes, then end of stream");
        }
        assertHealthy("a 100-byte frame cut after 10 bytes, then end of stream");
    }

    @Test
    @Order(4)
    void aNegativeOrZeroFrameSizeClosesTheConnection() throws Exception {
        for (int size : new int[] {-1, 0, Integer.MIN_VALUE}) {
            try (Socket socket = connect()) {
                writeIgnoringReset(socket, ByteBuffer.allocate(4 + 16).putInt(size).put(new byte[16]).array());
                assertClosedByBroker(socket, "frame size " + size);
            }
            assertHealthy("frame size " + size);
        }
    }

    @Test
    @Order(5)
    void aFrameAboveTheDefaultRequestLimitClosesTheConnectionWithoutItsBody() throws Exception {
        for (int size : new int[] {200 * 1024 * 1024, DEFAULT_MAX_REQUEST_BYTES + 1, Integer.MAX_VALUE}) {
            try (Socket socket = connect()) {
                // Only the size and the start of a plausible header: the body never comes, so a broker
                // that waited for it (or tried to buffer it) would not close within the timeout.
                byte[] start = ByteBuffer.allocate(4 + 8).putInt(size).putShort(ApiKeys.PRODUCE.id).putShort((short) 7)
                    .putInt(1).array();
                writeIgnoringReset(socket, start);
                assertClosedByBroker(socket, "frame claiming " + size + " bytes (limit " + DEFAULT_MAX_REQUEST_BYTES + ")");
            }
            assertHealthy("a frame claiming " + size + " bytes");
        }
    }

    @Test
    @Order(6)
    void aFrameAboveAConfiguredRequestLimitClosesTheConnection(@TempDir Path smallDir) throws Exception {
        int limit = 1024 * 1024;
        try (TestBroker small = new TestBroker(smallDir, Map.of("socket.request.max.bytes", String.valueOf(limit)))) {
            // Control: the small broker answers a well-formed request.
            try (Socket socket = connect(small.port())) {
                int correlationId = correlationIds.incrementAndGet();
                socket.getOutputStream().write(frame(header(ApiKeys.API_VERSIONS.id, 0, correlationId, false)));
                ApiVersionsV0 answer = readApiVersionsV0(socket, correlationId);
                assertThat(answer.errorCode).isZero();
            }
            // 2 MiB claimed, and the client keeps sending: the broker closes, the rest of the body fails.
            try (Socket socket = connect(small.port())) {
                byte[] start = ByteBuffer.allocate(4 + 8).putInt(2 * limit).putShort(ApiKeys.PRODUCE.id).putShort((short) 7)
                    .putInt(1).array();
                writeIgnoringReset(socket, start);
                assertClosedByBroker(socket, "frame claiming " + 2 * limit + " bytes (limit " + limit + ")");
                boolean writeFailed = false;
                try {
                    byte[] chunk = new byte[64 * 1024];
                    for (int i = 0; i < 2 * limit / chunk.length; i++) {
                        socket.getOutputStream().write(chunk);
                    }
                } catch (IOException expected) {
                    writeFailed = true;
                }
                assertThat(writeFailed).as("writing the 2 MiB body to the closed connection fails").isTrue();
            }
            // The small broker still serves clients.
            Properties properties = small.clientProperties();
            try (Admin smallAdmin = Admin.create(properties)) {
                assertThat(smallAdmin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).hasSize(1);
            }
        }
        assertHealthy("a frame above a configured limit (on a second broker)");
    }

    @Test
    @Order(7)
    void anUnknownApiKeyClosesTheConnection() throws Exception {
        for (short apiKey : new short[] {999, -1, Short.MAX_VALUE}) {
            try (Socket socket = connect()) {
                writeIgnoringReset(socket, frame(header(apiKey, 0, correlationIds.incrementAndGet(), false), new byte[16]));
                assertClosedByBroker(socket, "api key " + apiKey);
            }
            assertHealthy("api key " + apiKey);
        }
    }

    @Test
    @Order(8)
    void anUnsupportedVersionOfAKnownApiClosesTheConnection() throws Exception {
        for (short version : new short[] {99, Short.MAX_VALUE, -1}) {
            try (Socket socket = connect()) {
                // Metadata from v9 on uses the flexible header (with tagged fields).
                writeIgnoringReset(socket, frame(header(ApiKeys.METADATA.id, version, correlationIds.incrementAndGet(),
                    version >= 9), new byte[] {1, 0, 0}));
                assertClosedByBroker(socket, "Metadata v" + version);
            }
            assertHealthy("Metadata v" + version);
        }
    }

    @Test
    @Order(9)
    void anApiVersionsRequestOfAnUnknownVersionIsAnsweredInV0Form() throws Exception {
        try (Socket socket = connect()) {
            int correlationId = correlationIds.incrementAndGet();
            // As a newer client would send it: flexible header, then a v3-style body (two compact strings, no tags).
            byte[] body = {6, 'w', 'e', 'i', 'r', 'x', 4, '9', '.', '9', 0};
            socket.getOutputStream().write(frame(header(ApiKeys.API_VERSIONS.id, 99, correlationId, true), body));
            socket.getOutputStream().flush();
            ApiVersionsV0 answer = readApiVersionsV0(socket, correlationId);
            System.out.printf("ApiVersions v99 answered: error %d, api keys %s%n", answer.errorCode,
                answer.keys.stream().map(java.util.Arrays::toString).toList());
            assertThat(answer.errorCode).as("error code (UNSUPPORTED_VERSION)").isEqualTo(UNSUPPORTED_VERSION);
            assertThat(answer.keys).as("api keys of the v0 answer").anySatisfy(key -> {
                assertThat(key[0]).isEqualTo(ApiKeys.API_VERSIONS.id);
                assertThat(key[1]).isEqualTo((short) 0);
                assertThat(key[2]).isGreaterThanOrEqualTo((short) 3);
            });

            // The connection stays open: the client retries with v0 and gets the full list.
            int retryId = correlationIds.incrementAndGet();
            socket.getOutputStream().write(frame(header(ApiKeys.API_VERSIONS.id, 0, retryId, false)));
            socket.getOutputStream().flush();
            ApiVersionsV0 retry = readApiVersionsV0(socket, retryId);
            assertThat(retry.errorCode).isZero();
            assertThat(retry.keys.stream().map(key -> key[0]))
                .contains(ApiKeys.PRODUCE.id, ApiKeys.FETCH.id, ApiKeys.METADATA.id, ApiKeys.API_VERSIONS.id);
        }
        assertHealthy("ApiVersions v99");
    }

    @Test
    @Order(10)
    void aProduceRequestWithATruncatedBodyClosesTheConnection() throws Exception {
        // By hand, Produce v7: transactional id null, acks 1, timeout, one topic, one partition, then a
        // records field that claims 1000 bytes but has 5, inside a frame whose size matches what is sent.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream body = new DataOutputStream(bytes);
        body.writeShort(-1);
        body.writeShort(1);
        body.writeInt(30_000);
        body.writeInt(1);
        writeString(body, RAW_TOPIC);
        body.writeInt(1);
        body.writeInt(0);
        body.writeInt(1000);
        body.write(new byte[5]);
        try (Socket socket = connect()) {
            writeIgnoringReset(socket, frame(header(ApiKeys.PRODUCE.id, 7, correlationIds.incrementAndGet(), false),
                bytes.toByteArray()));
            assertClosedByBroker(socket, "Produce v7 with records cut short");
        }
        assertHealthy("Produce v7 with records cut short");

        // Serialised by kafka-clients, oldest and latest version: whole it is answered, cut anywhere it closes.
        Uuid topicId = admin.describeTopics(List.of(RAW_TOPIC)).allTopicNames().get(10, TimeUnit.SECONDS)
            .get(RAW_TOPIC).topicId();
        for (short version : new short[] {ApiKeys.PRODUCE.oldestVersion(), ApiKeys.PRODUCE.latestVersion()}) {
            int correlationId = correlationIds.incrementAndGet();
            RequestHeader requestHeader = new RequestHeader(ApiKeys.PRODUCE, version, "malformed-input-test", correlationId);
            ByteBuffer whole = produceRequest(version, topicId).serializeWithHeader(requestHeader);
            byte[] request = new byte[whole.remaining()];
            whole.get(request);
            int headerSize = requestHeader.size();

            try (Socket socket = connect()) {
                socket.getOutputStream().write(frame(request));
                socket.getOutputStream().flush();
                ByteBuffer response = readResponse(socket);
                ProduceResponse parsed = (ProduceResponse) AbstractResponse.parseResponse(response, requestHeader);
                assertThat(parsed.errorCounts()).as("control: the whole Produce v%d request", version)
                    .containsOnlyKeys(Errors.NONE);
            }
            for (int cut : new int[] {headerSize + 1, headerSize + (request.length - headerSize) / 2, request.length - 1}) {
                byte[] truncated = java.util.Arrays.copyOf(request, cut);
                try (Socket socket = connect()) {
                    writeIgnoringReset(socket, frame(truncated));
                    assertClosedByBroker(socket, "Produce v" + version + " cut to " + cut + " of " + request.length + " bytes");
                }
            }
            assertHealthy("truncated Produce v" + version);
        }
    }

    @Test
    @Order(11)
    void fiftyConcurrentGarbageConnectionsLeaveTheBrokerServing() throws Exception {
        int connections = 50;
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> outcomes = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                long connectionSeed = random.nextLong();
                int kind = i % 3;
                outcomes.add(pool.submit(() -> {
                    Random own = new Random(connectionSeed);
                    go.await();
                    try (Socket socket = connect()) {
                        byte[] garbage = new byte[16 + own.nextInt(32 * 1024)];
                        own.nextBytes(garbage);
                        String what;
                        if (kind == 0) {
                            writeIgnoringReset(socket, frame(garbage));
                            what = "framed garbage";
                        } else if (kind == 1) {
                            ByteBuffer.wrap(garbage).putInt(-1 - own.nextInt(1000));
                            writeIgnoringReset(socket, garbage);
                            what = "garbage with a negative size";
                        } else {
                            writeIgnoringReset(socket, garbage);
                            socket.shutdownOutput();
                            what = "raw garbage, then end of stream";
                        }
                        assertClosedByBroker(socket, what + " (seed " + connectionSeed + ")");
                        return what;
                    }
                }));
            }
            go.countDown();
            // The healthy clients keep working while the garbage arrives.
            assertHealthy("during 50 garbage connections");
            for (Future<String> outcome : outcomes) {
                outcome.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertHealthy("50 concurrent garbage connections");
    }

    @Test
    @Order(12)
    void everyHealthCheckRecordIsReadBackAndNothingUnexpectedWasLogged() {
        Properties properties = broker.clientProperties();
        properties.put("enable.auto.commit", "false");
        List<String> values = new ArrayList<>();
        TopicPartition partition = new TopicPartition(HEALTH_TOPIC, 0);
        try (KafkaConsumer<String, String> consumer =
                 new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (values.size() < healthValues.size() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
        }
        assertThat(values).containsExactlyElementsOf(healthValues);
        List<String> errors = brokerLog.events.stream().filter(event -> event.getLevel().isGreaterOrEqual(Level.ERROR))
            .map(event -> event.getLoggerName() + " - " + event.getFormattedMessage()
                + (event.getThrowableProxy() != null ? " (" + event.getThrowableProxy().getClassName() + ": "
                + event.getThrowableProxy().getMessage() + ")" : ""))
            .toList();
        assertThat(errors).as("broker ERROR log lines caused by malformed input (unexpected errors)").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    /** The Admin client and the producer connected since start-up still work: cluster, then a produce. */
    private static synchronized void assertHealthy(String after) throws Exception {
        assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS)).as("nodes after %s", after).hasSize(1);
        String value = "healthy after " + after;
        RecordMetadata metadata = producer.send(new ProducerRecord<>(HEALTH_TOPIC, 0, null, value))
            .get(10, TimeUnit.SECONDS);
        assertThat(metadata.offset()).as("offset of the health record after %s", after).isEqualTo(healthValues.size());
        healthValues.add(value);
    }

    private static Socket connect() throws IOException {
        return connect(broker.port());
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(CLOSE_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        return socket;
    }

    /** Writes, treating a reset or broken pipe as the broker having closed already (checked by the read after). */
    private static void writeIgnoringReset(Socket socket, byte[] bytes) {
        try {
            OutputStream out = socket.getOutputStream();
            out.write(bytes);
            out.flush();
        } catch (IOException closedAlready) {
            // The broker closed while we were still writing; assertClosedByBroker confirms it.
        }
    }

    /**
     * Reads until the broker closes the connection: end of stream or a reset both count; the read
     * timeout means the broker kept the connection open and fails the test.
     */
    private static void assertClosedByBroker(Socket socket, String what) {
        long start = System.nanoTime();
        long received = 0;
        try {
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            int read;
            while ((read = in.read(buffer)) >= 0) {
                received += read;
            }
        } catch (SocketTimeoutException e) {
            fail("%s: the broker did not close the connection within %d ms (%d bytes received)", what, CLOSE_TIMEOUT_MS,
                received);
        } catch (IOException reset) {
            // Connection reset: closed.
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("%s: closed by the broker after %d ms, %d response bytes%n", what, ms, received);
    }

    private static byte[] header(short apiKey, int version, int correlationId, boolean flexible) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeShort(apiKey);
        out.writeShort(version);
        out.writeInt(correlationId);
        writeString(out, "malformed-input-test");
        if (flexible) {
            out.writeByte(0);
        }
        return bytes.toByteArray();
    }

    private static void writeString(DataOutputStream out, String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeShort(utf8.length);
        out.write(utf8);
    }

    private static byte[] frame(byte[]... parts) {
        int size = 0;
        for (byte[] part : parts) {
            size += part.length;
        }
        ByteBuffer frame = ByteBuffer.allocate(4 + size).putInt(size);
        for (byte[] part : parts) {
            frame.put(part);
        }
        return frame.array();
    }

    /** One response frame (after its size) read from the socket. */
    private static ByteBuffer readResponse(Socket socket) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int size = in.readInt();
        assertThat(size).as("response size").isBetween(4, 10 * 1024 * 1024);
        byte[] body = new byte[size];
        in.readFully(body);
        return ByteBuffer.wrap(body);
    }

    private record ApiVersionsV0(short errorCode, List<short[]> keys) {
    }

    /** Parses an ApiVersions v0 response by hand: correlation id, error code, [api key, min, max]. */
    private static ApiVersionsV0 readApiVersionsV0(Socket socket, int correlationId) throws IOException {
        ByteBuffer response = readResponse(socket);
        int size = response.remaining();
        assertThat(response.getInt()).as("correlation id").isEqualTo(correlationId);
        short errorCode = response.getShort();
        int count = response.getInt();
        assertThat(count).as("api key count").isBetween(0, 1000);
        List<short[]> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            keys.add(new short[] {response.getShort(), response.getShort(), response.getShort()});
        }
        assertThat(response.remaining()).as("bytes after the v0 body (size %d, %d keys)", size, count).isZero();
        return new ApiVersionsV0(errorCode, keys);
    }

    private static ProduceRequest produceRequest(short version, Uuid topicId) {
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData()
            .setPartitionData(List.of(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.withRecords(Compression.NONE,
                    new SimpleRecord("raw-key".getBytes(StandardCharsets.UTF_8), "raw-value".getBytes(StandardCharsets.UTF_8))))));
        if (version >= 13) {
            topic.setTopicId(topicId);
        } else {
            topic.setName(RAW_TOPIC);
        }
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(topic);
        ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(30_000).setTopicData(topics);
        return new ProduceRequest(data, version);
    }
}
