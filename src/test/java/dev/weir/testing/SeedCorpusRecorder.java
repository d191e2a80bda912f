package dev.weir.testing;

import dev.weir.log.BatchValidatorFuzzTest;
import dev.weir.log.read.FetchResponseFuzzTest;
import dev.weir.net.FrameDecoderFuzzTest;
import dev.weir.protocol.RequestParsingFuzzTest;
import dev.weir.server.ImplementedApis;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records the seed corpora of the fuzz tests from real client traffic: a broker runs behind a
 * {@link FrameRecorder}, the Java producer (every compression type, idempotent and not), consumers in
 * a classic and a consumer-protocol group, and the admin client do their usual work through it, and
 * the frames they exchange are written under {@code src/test/resources} where each fuzz test's
 * regression inputs live. Only files named {@code recorded-*} are replaced, so inputs added by hand
 * (a fixed finding) stay. Not part of the build: run it when the clients or the fuzz tests' input
 * formats change, with {@code ./mvnw test -Dtest=SeedCorpusRecorder}, and commit the files.
 */
class SeedCorpusRecorder {
    private static final Path RESOURCES = Path.of("src", "test", "resources");
    private static final String PREFIX = "recorded-";
    private static final int REQUESTS_PER_API_VERSION = 2;
    private static final int BATCHES_PER_KIND = 2;
    private static final int FETCHED_RECORDS_SEEDS = 6;
    private static final int FRAMES_PER_CONNECTION_SEED = 12;
    private static final int MAX_CONNECTION_SEED_BYTES = 16 * 1024;

    @TempDir
    Path dataDir;

    @Test
    void record() throws Exception {
        List<FrameRecorder.Frame> frames;
        try (FrameRecorder recorder = new FrameRecorder()) {
            try (TestBroker broker = new TestBroker(dataDir,
                Map.of("advertised.listeners", "PLAINTEXT://127.0.0.1:" + recorder.port()))) {
                recorder.forwardTo(broker.port());
                Properties clients = new Properties();
                clients.put("bootstrap.servers", "127.0.0.1:" + recorder.port());
                ClientWork.run(clients, recorder.port());
            }
            frames = recorder.frames();
        }
        Traffic traffic = new Traffic(frames);
        writeRequests(traffic);
        writeConnections(traffic);
        writeBatches(traffic);
        writeFetchedRecords(traffic);
    }

    /** What the clients do, in order: each step's requests go through the recorder. */
    private static final class ClientWork {
        static void run(Properties clients, int port) throws Exception {
            try (Admin admin = Admin.create(clients)) {
                admin.createTopics(List.of(new NewTopic("seeds", 2, (short) 1),
                    new NewTopic("compacted", 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
                produce(clients);
                consume(clients);
                administer(admin);
            }
            withRawRequests(port);
        }

        private static void produce(Properties clients) throws Exception {
            for (String compression : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
                for (String idempotent : List.of("true", "false")) {
                    try (KafkaProducer<String, String> producer = Clients.producer(clients, Map.of("compression.type", compression,
                        "enable.idempotence", idempotent, "acks", idempotent.equals("true") ? "all" : "1", "linger.ms", "20"))) {
                        for (int i = 0; i < 4; i++) {
                            ProducerRecord<String, String> record = new ProducerRecord<>(i % 2 == 0 ? "seeds" : "compacted",
                                0, i % 3 == 0 ? null : "key-" + i, "value " + i + " " + compression);
                            record.headers().add(new RecordHeader("h" + i, ("header-" + i).getBytes()));
                            producer.send(record);
                        }
                        producer.flush();
                    }
                }
            }
            Map<String, String> fireAndForget = Map.of("acks", "0", "enable.idempotence", "false");
            try (KafkaProducer<String, String> producer = Clients.producer(clients, fireAndForget)) {
                producer.send(new ProducerRecord<>("seeds", 1, "k", "fire and forget")).get();
                producer.flush();
            }
        }

        private static void consume(Properties clients) {
            Set<String> topics = Set.of("seeds", "compacted");
            for (String protocol : List.of("classic", "consumer")) {
                Map<String, String> settings = new HashMap<>(Map.of("group.id", "seeds-" + protocol, "group.protocol", protocol,
                    "auto.offset.reset", "earliest", "enable.auto.commit", "false"));
                if (protocol.equals("classic")) {
                    settings.put("heartbeat.interval.ms", "100");
                }
                try (KafkaConsumer<String, String> consumer = Clients.consumer(clients, settings)) {
                    consumer.subscribe(topics);
                    int read = 0;
                    long start = System.nanoTime();
                    long deadline = start + Duration.ofSeconds(30).toNanos();
                    long heartbeats = start + Duration.ofSeconds(1).toNanos();
                    // Polls for a second at least, so the classic member's heartbeats are among the requests.
                    while ((read < 20 || System.nanoTime() < heartbeats) && System.nanoTime() < deadline) {
                        read += consumer.poll(Duration.ofMillis(200)).count();
                    }
                    consumer.commitSync();
                }
            }
            try (KafkaConsumer<String, String> consumer = Clients.consumer(clients, Map.of())) {
                TopicPartition partition = new TopicPartition("seeds", 0);
                consumer.assign(List.of(partition));
                consumer.seekToEnd(List.of(partition));
                consumer.position(partition);
                consumer.seek(partition, new OffsetAndMetadata(1, Optional.of(0), ""));
                consumer.poll(Duration.ofMillis(500));
            }
        }

        private static void administer(Admin admin) throws Exception {
            admin.describeTopics(List.of("seeds", "compacted")).allTopicNames().get();
            String nodeId = admin.describeCluster().nodes().get().iterator().next().idString();
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "seeds");
            admin.describeConfigs(List.of(topic, new ConfigResource(ConfigResource.Type.BROKER, nodeId))).all().get();
            admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "86400000"),
                AlterConfigOp.OpType.SET)))).all().get();
            admin.createPartitions(Map.of("seeds", NewPartitions.increaseTo(3))).all().get();
            TopicPartition partition = new TopicPartition("seeds", 0);
            admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all().get();
            admin.listOffsets(Map.of(partition, OffsetSpec.maxTimestamp())).all().get();
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(1))).all().get();
            admin.listGroups().all().get();
            admin.describeConsumerGroups(List.of("seeds-classic", "seeds-consumer")).all().get();
            admin.listConsumerGroupOffsets("seeds-classic").partitionsToOffsetAndMetadata().get();
            admin.deleteConsumerGroupOffsets("seeds-classic", Set.of(partition)).all().get();
            admin.deleteConsumerGroups(List.of("seeds-classic")).all().get();
            admin.deleteTopics(List.of("compacted")).all().get();
        }

        /** The implemented APIs the clients above do not send, built with kafka-clients' own request classes. */
        private static void withRawRequests(int port) throws IOException {
            try (RawKafkaClient raw = new RawKafkaClient(port)) {
                raw.send(new AlterConfigsRequest.Builder(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, "seeds"),
                    new AlterConfigsRequest.Config(List.of(new AlterConfigsRequest.ConfigEntry("retention.ms", "3600000")))),
                    false).build());
                OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection topics =
                    new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
                topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("seeds")
                    .setPartitions(List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                        .setLeaderEpoch(0).setCurrentLeaderEpoch(0))));
                raw.send(OffsetsForLeaderEpochRequest.Builder.forConsumer(topics).build());
            }
        }
    }

    /** The recorded frames, requests parsed and responses matched to them. */
    private static final class Traffic {
        record Request(int connection, RequestHeader header, byte[] frame) {
        }

        final List<Request> requests = new ArrayList<>();
        final Map<Integer, List<byte[]>> framesByConnection = new TreeMap<>();
        /** Responses by connection and correlation id. */
        final Map<List<Integer>, byte[]> responses = new HashMap<>();

        Traffic(List<FrameRecorder.Frame> frames) {
            for (FrameRecorder.Frame frame : frames) {
                if (frame.fromClient()) {
                    RequestHeader header = RequestHeader.parse(ByteBuffer.wrap(frame.bytes()));
                    requests.add(new Request(frame.connection(), header, frame.bytes()));
                    framesByConnection.computeIfAbsent(frame.connection(), c -> new ArrayList<>()).add(frame.bytes());
                } else {
                    responses.put(List.of(frame.connection(), ByteBuffer.wrap(frame.bytes()).getInt(0)), frame.bytes());
                }
            }
        }
    }

    /** Requests of every API and version seen, and each API's first request rewritten in its oldest and a middle version. */
    private static void writeRequests(Traffic traffic) throws IOException {
        Map<String, byte[]> seeds = new TreeMap<>();
        Map<String, Integer> perVersion = new HashMap<>();
        Set<ApiKeys> seen = EnumSet.noneOf(ApiKeys.class);
        for (Traffic.Request request : traffic.requests) {
            ApiKeys api = request.header().apiKey();
            String name = api.name().toLowerCase() + "-v" + request.header().apiVersion();
            int count = perVersion.merge(name, 1, Integer::sum);
            if (count <= REQUESTS_PER_API_VERSION) {
                seeds.put(name + "-" + count, request.frame());
            }
            if (seen.add(api)) {
                seeds.putAll(olderVersions(request));
            }
        }
        Set<ApiKeys> missing = EnumSet.copyOf(ImplementedApis.all());
        missing.removeAll(seen);
        System.out.println("Implemented APIs without a recorded request: " + missing);
        replace(inputs(RequestParsingFuzzTest.class, "requests"), seeds);
    }

    private static Map<String, byte[]> olderVersions(Traffic.Request request) {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        ApiKeys api = request.header().apiKey();
        short latest = request.header().apiVersion();
        ByteBuffer body = ByteBuffer.wrap(request.frame());
        RequestHeader.parse(body);
        AbstractRequest parsed = AbstractRequest.parseRequest(api, latest, new ByteBufferAccessor(body.slice())).request;
        for (short version : new java.util.TreeSet<>(List.of(api.oldestVersion(), (short) ((api.oldestVersion() + latest) / 2)))) {
            if (version == latest) {
                continue;
            }
            RequestHeaderData header = request.header().data().duplicate().setRequestApiVersion(version);
            try {
                ByteBuffer frame = RequestUtils.serialize(header, api.requestHeaderVersion(version), parsed.data(), version);
                seeds.put(api.name().toLowerCase() + "-v" + version + "-rewritten", toArray(frame));
            } catch (RuntimeException fieldsTheVersionLacks) {
                // The request uses something the older version cannot carry; the recorded one will do.
            }
        }
        return seeds;
    }

    /** The first frames of each connection, as the byte stream a broker reads. */
    private static void writeConnections(Traffic traffic) throws IOException {
        Map<String, byte[]> seeds = new TreeMap<>();
        traffic.framesByConnection.forEach((connection, frames) -> {
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            for (byte[] frame : frames.subList(0, Math.min(frames.size(), FRAMES_PER_CONNECTION_SEED))) {
                if (stream.size() + frame.length > MAX_CONNECTION_SEED_BYTES) {
                    break;
                }
                stream.writeBytes(ByteBuffer.allocate(4).putInt(frame.length).array());
                stream.writeBytes(frame);
            }
            String first = RequestHeader.parse(ByteBuffer.wrap(frames.get(0))).apiKey().name().toLowerCase();
            seeds.put(String.format("connection-%02d-%s", connection, first), FrameDecoderFuzzTest.seed(stream.toByteArray()));
        });
        replace(inputs(FrameDecoderFuzzTest.class, "frames"), seeds);
    }

    /** Produced batches, a few of each compression type, with and without a producer id. */
    private static void writeBatches(Traffic traffic) throws IOException {
        Map<String, byte[]> seeds = new TreeMap<>();
        Map<String, Integer> perKind = new HashMap<>();
        for (Traffic.Request request : traffic.requests) {
            if (request.header().apiKey() != ApiKeys.PRODUCE) {
                continue;
            }
            ByteBuffer body = ByteBuffer.wrap(request.frame());
            RequestHeader.parse(body);
            ProduceRequest produce = (ProduceRequest) AbstractRequest.parseRequest(ApiKeys.PRODUCE,
                request.header().apiVersion(), new ByteBufferAccessor(body.slice())).request;
            produce.data().topicData().forEach(topic -> topic.partitionData().forEach(partition -> {
                MemoryRecords records = (MemoryRecords) partition.records();
                MutableRecordBatch batch = records.batches().iterator().next();
                String kind = batch.compressionType().name().toLowerCase() + (batch.hasProducerId() ? "-idempotent" : "");
                int count = perKind.merge(kind, 1, Integer::sum);
                if (count <= BATCHES_PER_KIND) {
                    seeds.put("batch-" + kind + "-" + count, toArray(records.buffer()));
                }
            }));
        }
        replace(inputs(BatchValidatorFuzzTest.class, null), seeds);
    }

    /** Records that fetch responses carried to the consumers (batches of every compression type). */
    private static void writeFetchedRecords(Traffic traffic) throws IOException {
        Map<String, byte[]> seeds = new TreeMap<>();
        for (Traffic.Request request : traffic.requests) {
            byte[] response = traffic.responses.get(List.of(request.connection(), request.header().correlationId()));
            if (request.header().apiKey() != ApiKeys.FETCH || response == null) {
                continue;
            }
            FetchResponse fetch = (FetchResponse) AbstractResponse.parseResponse(ByteBuffer.wrap(response), request.header());
            fetch.data().responses().forEach(topic -> topic.partitions().forEach(partition -> {
                MemoryRecords records = (MemoryRecords) FetchResponse.recordsOrFail(partition);
                byte[] seed = FetchResponseFuzzTest.seed(toArray(records.buffer()));
                boolean known = seeds.values().stream().anyMatch(other -> java.util.Arrays.equals(other, seed));
                if (records.sizeInBytes() > 0 && !known && seeds.size() < FETCHED_RECORDS_SEEDS) {
                    seeds.put(String.format("fetched-%02d", seeds.size()), seed);
                }
            }));
        }
        replace(inputs(FetchResponseFuzzTest.class, "responses"), seeds);
    }

    /** The inputs directory Jazzer reads for a fuzz test method, or for all of a class's methods when {@code method} is null. */
    private static Path inputs(Class<?> fuzzTest, String method) {
        Path directory = RESOURCES.resolve(fuzzTest.getPackageName().replace('.', '/'))
            .resolve(fuzzTest.getSimpleName() + "Inputs");
        return method == null ? directory : directory.resolve(method);
    }

    private static void replace(Path directory, Map<String, byte[]> seeds) throws IOException {
        Files.createDirectories(directory);
        try (Stream<Path> old = Files.list(directory)) {
            for (Path file : (Iterable<Path>) old::iterator) {
                if (Files.isRegularFile(file) && file.getFileName().toString().startsWith(PREFIX)) {
                    Files.delete(file);
                }
            }
        }
        for (Map.Entry<String, byte[]> seed : seeds.entrySet()) {
            Files.write(directory.resolve(PREFIX + seed.getKey()), seed.getValue());
        }
        long bytes = seeds.values().stream().mapToLong(seed -> seed.length).sum();
        System.out.println(directory + ": " + seeds.size() + " seeds, " + bytes + " bytes");
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }
}
