package dev.weir.log.read;

import dev.weir.log.read.SendableRecords;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.weir.net.FrameProcessor;
import dev.weir.net.MemoryBudget;
import dev.weir.net.ResponsePart;
import dev.weir.protocol.HandlerRegistry;
import dev.weir.protocol.RequestDispatcher;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordsSend;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fetch responses whose records are {@link SendableRecords}, as the fetch handler builds them (parts
 * in memory, heap or direct, and ranges of a file), answered through the real dispatcher, which
 * collects the response's buffers and file ranges without copying them: the answer's size prefix
 * must equal the bytes that follow, and kafka-clients must read it back as a fetch response with every
 * partition's records exactly the bytes put in. The records are also written on their own through a
 * channel that takes only so many bytes a call, and must come out whole and in order.
 *
 * <p>Input, read with {@link FuzzedDataProvider} (numbers from the end, bytes from the front): how
 * many bytes the partial channel takes a call (0: all), the fetch version (latest first), how many
 * topics and partitions, and for each partition its parts: where each lives and how long it is (0:
 * all the bytes left). The seeds are records that consumers fetched from a broker, written by
 * {@link #seed} so that every choice is its first: the latest version, one topic with one partition
 * whose records are the seed's bytes in one heap buffer.
 */
public class FetchResponseFuzzTest {
    private static final int MAX_PART_BYTES = 4096;
    /** Bytes the first choices take from the end: channel step, version, topics, partitions, parts, part kind and length. */
    private static final int DEFAULT_CHOICE_BYTES = 2 + 1 + 1 + 1 + 1 + 1 + 2;
    private static final short[] VERSIONS = versionsLatestFirst();
    private static final FrameProcessor.Connection CONNECTION = new FrameProcessor.Connection("fuzz",
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 9092), new MemoryBudget(Long.MAX_VALUE));
    /** The response the fetch handler stand-in answers with; set before each request. */
    private static FetchResponse nextResponse;
    private static final RequestDispatcher DISPATCHER = new RequestDispatcher(
        new HandlerRegistry().register(ApiKeys.FETCH, (scope, request) -> CompletableFuture.completedFuture(nextResponse)),
        "PLAINTEXT", Clock.systemUTC(), IllegalStateException::new);
    private static final Path FILE = temporaryFile();
    private static final FileChannel CHANNEL = open(FILE);

    /** A fuzz input whose records, in one partition of the latest version, are {@code records}. */
    public static byte[] seed(byte[] records) {
        return Arrays.copyOf(records, records.length + DEFAULT_CHOICE_BYTES);
    }

    @AfterAll
    static void deleteFile() throws IOException {
        CHANNEL.close();
        Files.deleteIfExists(FILE);
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void responses(FuzzedDataProvider data) throws IOException {
        int channelStep = data.consumeInt(0, MAX_PART_BYTES);
        short version = VERSIONS[data.consumeInt(0, VERSIONS.length - 1)];
        CHANNEL.truncate(0);
        FetchResponseData response = new FetchResponseData().setSessionId(0);
        List<List<byte[]>> expected = new ArrayList<>();
        int topics = 1 + data.consumeInt(0, 3);
        for (int t = 0; t < topics; t++) {
            FetchableTopicResponse topic = new FetchableTopicResponse().setTopic(topicName(t)).setTopicId(topicId(t));
            response.responses().add(topic);
            List<byte[]> topicRecords = new ArrayList<>();
            expected.add(topicRecords);
            int partitions = 1 + data.consumeInt(0, 7);
            for (int p = 0; p < partitions; p++) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                SendableRecords records = records(data, bytes);
                topicRecords.add(bytes.toByteArray());
                topic.partitions().add(new PartitionData().setPartitionIndex(p).setHighWatermark(highWatermark(t, p))
                    .setLastStableOffset(highWatermark(t, p)).setLogStartOffset(0).setRecords(records));
                checkWrittenAlone(records, bytes.toByteArray(), channelStep);
            }
        }
        nextResponse = FetchResponse.of(response);
        checkAnswer(version, expected);
    }

    /** One partition's records: parts, each in a heap buffer, a direct buffer or the file, with their bytes in {@code all}. */
    private static SendableRecords records(FuzzedDataProvider data, ByteArrayOutputStream all) throws IOException {
        List<SendableRecords.Part> parts = new ArrayList<>();
        int count = 1 + data.consumeInt(0, 3);
        for (int i = 0; i < count; i++) {
            int kind = data.consumeInt(0, 2);
            int length = data.consumeInt(0, MAX_PART_BYTES);
            byte[] bytes = length == 0 ? data.consumeRemainingAsBytes() : data.consumeBytes(length);
            all.writeBytes(bytes);
            parts.add(switch (kind) {
                case 0 -> SendableRecords.Part.bytes(ByteBuffer.wrap(bytes));
                case 1 -> SendableRecords.Part.bytes(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip());
                default -> {
                    long position = CHANNEL.size();
                    CHANNEL.write(ByteBuffer.wrap(bytes), position);
                    yield SendableRecords.Part.file(CHANNEL, position, bytes.length);
                }
            });
        }
        return new SendableRecords(parts);
    }

    /** Through the dispatcher: one frame, its size prefix right, that kafka-clients reads back to the records put in. */
    private static void checkAnswer(short version, List<List<byte[]>> expected) throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.FETCH, version, "fuzz", 17);
        ByteBuffer request = FetchRequest.Builder.forConsumer(version, 0, 0, Map.of()).build(version).serializeWithHeader(header);
        FrameProcessor.Response answer = DISPATCHER.process(request, CONNECTION).join();
        ByteBuffer frame;
        try {
            frame = concatenate(answer.parts());
        } finally {
            answer.afterWrite().run();
        }
        if (frame.remaining() < 4 || frame.getInt(0) != frame.remaining() - 4) {
            throw new AssertionError("a response of " + frame.remaining() + " bytes has the size prefix " + frame.getInt(0));
        }
        FetchResponse parsed = (FetchResponse) AbstractResponse.parseResponse(frame.position(4).slice(), header);
        List<FetchableTopicResponse> topics = parsed.data().responses();
        if (topics.size() != expected.size()) {
            throw new AssertionError(topics.size() + " topics read back, " + expected.size() + " sent");
        }
        for (int t = 0; t < topics.size(); t++) {
            FetchableTopicResponse topic = topics.get(t);
            if (version >= 13 ? !topic.topicId().equals(topicId(t)) : !topic.topic().equals(topicName(t))) {
                throw new AssertionError("topic " + t + " read back as " + topic.topic() + " / " + topic.topicId());
            }
            checkPartitions(t, topic.partitions(), expected.get(t));
        }
    }

    private static void checkPartitions(int topic, List<PartitionData> partitions, List<byte[]> expected) {
        if (partitions.size() != expected.size()) {
            throw new AssertionError("topic " + topic + ": " + partitions.size() + " partitions read back, " + expected.size()
                + " sent");
        }
        for (int p = 0; p < expected.size(); p++) {
            PartitionData partition = partitions.get(p);
            ByteBuffer records = ((MemoryRecords) FetchResponse.recordsOrFail(partition)).buffer();
            if (partition.partitionIndex() != p || partition.highWatermark() != highWatermark(topic, p)
                || !records.equals(ByteBuffer.wrap(expected.get(p)))) {
                throw new AssertionError("partition " + topic + "-" + p + " read back as " + partition.partitionIndex()
                    + " with high watermark " + partition.highWatermark() + " and " + records.remaining()
                    + " bytes of records; sent " + expected.get(p).length + " bytes");
            }
        }
    }

    private static String topicName(int topic) {
        return "topic-" + topic;
    }

    private static Uuid topicId(int topic) {
        return new Uuid(7, topic + 1);
    }

    private static long highWatermark(int topic, int partition) {
        return 1000L * topic + partition;
    }

    /** Written alone through a channel that takes at most {@code step} bytes a call (0: all), the records come out whole. */
    private static void checkWrittenAlone(BaseRecords records, byte[] expected, int step) throws IOException {
        PartialChannel channel = new PartialChannel(step == 0 ? Integer.MAX_VALUE : step);
        RecordsSend<?> send = records.toSend();
        long calls = 0;
        while (!send.completed()) {
            send.writeTo(channel);
            if (++calls > expected.length + 10L) {
                throw new AssertionError("the records send makes no progress after " + channel.out.size() + " bytes");
            }
        }
        if (!Arrays.equals(channel.out.toByteArray(), expected)) {
            throw new AssertionError("the records send wrote " + channel.out.size() + " bytes, expected " + expected.length
                + " bytes, or other ones");
        }
    }

    private static ByteBuffer concatenate(List<ResponsePart> parts) throws IOException {
        long size = parts.stream().mapToLong(ResponsePart::size).sum();
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(size));
        for (ResponsePart part : parts) {
            if (part instanceof ResponsePart.Bytes buffer) {
                bytes.put(buffer.buffer().duplicate());
            } else if (part instanceof ResponsePart.FileRange range) {
                ByteBuffer slice = bytes.slice().limit(Math.toIntExact(range.count()));
                while (slice.hasRemaining()) {
                    if (range.channel().read(slice, range.position() + slice.position()) < 0) {
                        throw new AssertionError("a file range reaches past the end of its file");
                    }
                }
                bytes.position(bytes.position() + slice.position());
            }
        }
        return bytes.flip();
    }

    /** A channel that takes at most so many bytes a call, as a socket with a full buffer does. */
    private static final class PartialChannel implements TransferableChannel {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final int step;

        PartialChannel(int step) {
            this.step = step;
        }

        @Override
        public int write(ByteBuffer source) {
            int taken = Math.min(step, source.remaining());
            byte[] bytes = new byte[taken];
            source.get(bytes);
            out.writeBytes(bytes);
            return taken;
        }

        @Override
        public long write(ByteBuffer[] sources, int offset, int length) {
            long written = 0;
            for (int i = offset; i < offset + length; i++) {
                written += write(sources[i]);
            }
            return written;
        }

        @Override
        public long write(ByteBuffer[] sources) {
            return write(sources, 0, sources.length);
        }

        @Override
        public long transferFrom(FileChannel file, long position, long count) throws IOException {
            ByteBuffer bytes = ByteBuffer.allocate((int) Math.min(step, count));
            int read = file.read(bytes, position);
            out.write(bytes.array(), 0, Math.max(read, 0));
            return Math.max(read, 0);
        }

        @Override
        public boolean hasPendingWrites() {
            return false;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static short[] versionsLatestFirst() {
        short latest = ApiKeys.FETCH.latestVersion();
        short oldest = ApiKeys.FETCH.oldestVersion();
        short[] versions = new short[latest - oldest + 1];
        for (int i = 0; i < versions.length; i++) {
            versions[i] = (short) (latest - i);
        }
        return versions;
    }

    private static Path temporaryFile() {
        try {
            return Files.createTempFile("weir-fetch-fuzz", ".records");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FileChannel open(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
