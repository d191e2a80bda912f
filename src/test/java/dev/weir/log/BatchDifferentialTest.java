package dev.weir.log;

import dev.weir.log.policy.TopicLimits;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Weir's batch validation against kafka-clients' reading of the same bytes ({@link BatchDifferential}):
 * valid batches built by kafka-clients' {@link MemoryRecordsBuilder} in every compression type, each
 * judged as built and after mutations, in the header (a flipped bit, a field set to an edge value),
 * in the records (compressed ones decompressed, changed and compressed again, so the change gets past
 * the codec) and in the framing (cut short, extended, doubled); most mutations then get a fitting
 * length and CRC, so that more than the checksum judges them. Each input is judged under the topics of
 * {@link BatchValidatorFuzzTest#TOPICS}.
 *
 * <p>The inputs come from a seeded {@link Random}; the seed is printed and can be replayed with
 * {@code -Dweir.differential.seed=<seed>}. A disagreement names the case and carries its bytes.
 */
class BatchDifferentialTest {
    /** Batches built; {@code -Dweir.differential.batches=<n>} for a longer run. */
    private static final int BATCHES = Integer.getInteger("weir.differential.batches", 400);
    private static final int MUTATIONS_PER_BATCH = 12;
    private static final List<Compression> COMPRESSIONS = List.of(Compression.NONE, Compression.gzip().build(),
        Compression.snappy().build(), Compression.lz4().build(), Compression.zstd().build());
    /** Values that sit on the edges of the header's checks. */
    private static final long[] EDGES = {0, 1, -1, -2, 2, 127, 128, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE,
        Long.MIN_VALUE, BatchValidatorFuzzTest.NOW_MS, BatchValidatorFuzzTest.NOW_MS + 7_200_000L};
    /** Header fields: offset and width. */
    private static final int[][] FIELDS = {{0, 8}, {8, 4}, {12, 4}, {16, 1}, {21, 2}, {23, 4}, {27, 8}, {35, 8}, {43, 8},
        {51, 2}, {53, 4}, {57, 4}};

    @Test
    void weirAndKafkaClientsAgreeOnBuiltAndMutatedBatches() {
        long seed = Long.getLong("weir.differential.seed", System.nanoTime());
        System.out.println("BatchDifferentialTest seed = " + seed + " (replay with -Dweir.differential.seed=" + seed + ")");
        Random random = new Random(seed);
        int judged = 0;
        for (int i = 0; i < BATCHES; i++) {
            Compression compression = COMPRESSIONS.get(i % COMPRESSIONS.size());
            byte[] built = build(random, compression);
            judged++;
            judge("batch " + i + " (" + compression.type().name + ") as built", built);
            for (int m = 0; m < MUTATIONS_PER_BATCH; m++) {
                Mutation mutation = Mutation.pick(random, compression.type());
                byte[] mutated = mutation.apply.apply(built);
                if (random.nextInt(4) != 0) {
                    mutated = BatchValidatorFuzzTest.withLengthAndCrcFitted(mutated);
                }
                judged++;
                judge("batch " + i + " (" + compression.type().name + "), " + mutation.name, mutated);
            }
        }
        System.out.println("BatchDifferentialTest judged " + judged + " inputs");
    }

    /** Judges one input under every topic. */
    private static void judge(String description, byte[] bytes) {
        for (TopicLimits topic : BatchValidatorFuzzTest.TOPICS) {
            try {
                BatchDifferential.check(bytes, topic, BatchValidatorFuzzTest.NOW_MS);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(description + " under " + topic + ": " + e.getMessage()
                    + "\nbytes: " + Base64.getEncoder().encodeToString(bytes), e);
            }
        }
    }

    /** A valid batch of 1 to 8 records, with or without keys, values, headers and a producer id. */
    private static byte[] build(Random random, Compression compression) {
        boolean idempotent = random.nextBoolean();
        MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(256), RecordBatch.MAGIC_VALUE_V2, compression,
            TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP,
            idempotent ? random.nextInt(1_000_000) : RecordBatch.NO_PRODUCER_ID,
            idempotent ? (short) random.nextInt(5) : RecordBatch.NO_PRODUCER_EPOCH,
            idempotent ? random.nextInt(1000) : RecordBatch.NO_SEQUENCE, false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        int count = 1 + random.nextInt(8);
        for (int i = 0; i < count; i++) {
            long timestamp = random.nextInt(10) == 0 ? RecordBatch.NO_TIMESTAMP
                : BatchValidatorFuzzTest.NOW_MS - random.nextInt(10_000);
            byte[] key = random.nextInt(4) == 0 ? null : randomBytes(random, 8);
            byte[] value = random.nextInt(8) == 0 ? null : randomBytes(random, 40);
            Header[] headers = new Header[random.nextInt(3)];
            for (int h = 0; h < headers.length; h++) {
                headers[h] = new RecordHeader("h" + random.nextInt(100), random.nextBoolean() ? null : randomBytes(random, 6));
            }
            builder.append(new SimpleRecord(timestamp, key, value, headers));
        }
        ByteBuffer built = builder.build().buffer();
        byte[] bytes = new byte[built.remaining()];
        built.get(bytes);
        return bytes;
    }

    private static byte[] randomBytes(Random random, int maxLength) {
        byte[] bytes = new byte[random.nextInt(maxLength + 1)];
        random.nextBytes(bytes);
        return bytes;
    }

    /** A change to a valid batch's bytes, with a name for the report. */
    private record Mutation(String name, UnaryOperator<byte[]> apply) {
        static Mutation pick(Random random, CompressionType compression) {
            switch (random.nextInt(8)) {
                case 0: {
                    int bit = random.nextInt(Integer.MAX_VALUE);
                    return new Mutation("bit " + bit + " (mod length) flipped", bytes -> {
                        byte[] copy = bytes.clone();
                        int at = bit % (copy.length * 8);
                        copy[at / 8] ^= (byte) (1 << (at % 8));
                        return copy;
                    });
                }
                case 1: {
                    int[] field = FIELDS[random.nextInt(FIELDS.length)];
                    long value = EDGES[random.nextInt(EDGES.length)] + (random.nextBoolean() ? 0 : random.nextInt(3) - 1);
                    return new Mutation("header field at " + field[0] + " set to " + value, bytes -> setField(bytes, field, value));
                }
                case 2: {
                    int keep = random.nextInt(Integer.MAX_VALUE);
                    return new Mutation("cut to " + keep + " (mod length) bytes",
                        bytes -> java.util.Arrays.copyOf(bytes, keep % bytes.length));
                }
                case 3: {
                    byte[] extra = randomBytes(random, 16);
                    return new Mutation(extra.length + " random bytes appended", bytes -> concat(bytes, extra));
                }
                case 4:
                    return new Mutation("doubled", bytes -> concat(bytes, bytes));
                case 5: {
                    return new Mutation("marked log-append time", bytes -> {
                        byte[] copy = bytes.clone();
                        copy[22] |= 0x08;
                        return copy;
                    });
                }
                default: {
                    long recordSeed = random.nextLong();
                    return new Mutation("records changed (seed " + recordSeed + ")",
                        bytes -> withRecords(bytes, compression, RecordBytes.mutate(recordsOf(bytes), new Random(recordSeed))));
                }
            }
        }

        private static byte[] setField(byte[] bytes, int[] field, long value) {
            ByteBuffer copy = ByteBuffer.wrap(bytes.clone());
            switch (field[1]) {
                case 1 -> copy.put(field[0], (byte) value);
                case 2 -> copy.putShort(field[0], (short) value);
                case 4 -> copy.putInt(field[0], (int) value);
                default -> copy.putLong(field[0], value);
            }
            return copy.array();
        }

        private static byte[] concat(byte[] first, byte[] second) {
            byte[] both = java.util.Arrays.copyOf(first, first.length + second.length);
            System.arraycopy(second, 0, both, first.length, second.length);
            return both;
        }

        /** The records of a valid batch, decompressed. */
        private static byte[] recordsOf(byte[] batch) {
            DefaultRecordBatch parsed = (DefaultRecordBatch) MemoryRecords.readableRecords(ByteBuffer.wrap(batch))
                .batches().iterator().next();
            try (java.io.InputStream in = parsed.recordInputStream(BufferSupplier.NO_CACHING)) {
                return in.readAllBytes();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The batch's header with other records, compressed as the batch is (length and CRC are fitted later, or not). */
        private static byte[] withRecords(byte[] batch, CompressionType compression, byte[] records) {
            ByteBufferOutputStream out = new ByteBufferOutputStream(records.length + 64);
            Compression codec = Compression.of(compression).build();
            try (java.io.OutputStream compressing = codec.wrapForOutput(out, RecordBatch.MAGIC_VALUE_V2)) {
                compressing.write(records);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            ByteBuffer body = out.buffer().flip();
            ByteBuffer rebuilt = ByteBuffer.allocate(DefaultRecordBatch.RECORD_BATCH_OVERHEAD + body.remaining());
            rebuilt.put(batch, 0, DefaultRecordBatch.RECORD_BATCH_OVERHEAD).put(body);
            return rebuilt.array();
        }
    }

    /** Changes to a batch's (decompressed) records, aimed at their varint fields. */
    private static final class RecordBytes {
        /** Zigzag varints of lengths, counts and deltas around the edges. */
        private static final byte[][] VARINTS = {{0}, {1}, {2}, {3}, {4}, {(byte) 0x7e}, {(byte) 0x7f}, {(byte) 0x80, 1},
            {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f},
            {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}};

        static byte[] mutate(byte[] records, Random random) {
            List<Byte> bytes = new ArrayList<>();
            for (byte b : records) {
                bytes.add(b);
            }
            int changes = 1 + random.nextInt(3);
            for (int c = 0; c < changes && !bytes.isEmpty(); c++) {
                int at = random.nextInt(bytes.size());
                switch (random.nextInt(4)) {
                    case 0 -> bytes.set(at, (byte) (bytes.get(at) ^ (1 << random.nextInt(8))));
                    case 1 -> bytes.remove(at);
                    case 2 -> bytes.add(at, (byte) random.nextInt(256));
                    default -> {
                        byte[] varint = VARINTS[random.nextInt(VARINTS.length)];
                        bytes.set(at, varint[0]);
                        for (int v = 1; v < varint.length; v++) {
                            bytes.add(at + v, varint[v]);
                        }
                    }
                }
            }
            byte[] mutated = new byte[bytes.size()];
            for (int i = 0; i < mutated.length; i++) {
                mutated[i] = bytes.get(i);
            }
            return mutated;
        }
    }
}
