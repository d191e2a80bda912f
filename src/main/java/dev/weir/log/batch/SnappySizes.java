package dev.weir.log.batch;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;

/**
 * Checks the sizes that the records of a snappy-compressed batch declare, before snappy-java reads
 * them: it allocates a chunk's declared compressed size and its declared uncompressed size before it
 * reads a byte of the chunk, so a produced batch of a hundred bytes could otherwise make the broker
 * allocate half a gigabyte. A chunk must lie within the batch, and must not claim to decompress to
 * more than {@link #MAX_EXPANSION} times its size: snappy's densest element is a 3-byte copy of at
 * most 64 bytes, so a block of n bytes decompresses to less than 22n. Both of snappy-java's forms are
 * read: its stream (a 16-byte header, then chunks, each a 4-byte size and a snappy block) and a single
 * snappy block without a header, which some clients send. Stateless.
 */
final class SnappySizes {
    private static final byte[] STREAM_MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    /** The magic, then the stream format's version and the oldest version that reads it. */
    private static final int STREAM_HEADER_BYTES = STREAM_MAGIC.length + 2 * Integer.BYTES;
    /** Allowed uncompressed bytes per compressed byte, above snappy's 64/3 with room to spare. */
    private static final long MAX_EXPANSION = 32;

    private SnappySizes() {
    }

    /** Throws CORRUPT_MESSAGE when a size in {@code compressed} (a batch's records, from its position) cannot be right. */
    static void check(ByteBuffer compressed) {
        ByteBuffer bytes = compressed.slice();
        if (!startsWithMagic(bytes)) {
            checkBlock(bytes);
            return;
        }
        while (bytes.hasRemaining()) {
            if (startsWithMagic(bytes)) {
                // A stream header: the first, or one where streams were concatenated.
                bytes.position(Math.min(bytes.limit(), bytes.position() + STREAM_HEADER_BYTES));
                continue;
            }
            if (bytes.remaining() < Integer.BYTES) {
                return; // snappy-java takes fewer than four bytes after the last chunk for the end of the stream
            }
            int chunkBytes = bytes.getInt();
            if (chunkBytes < 0 || chunkBytes > bytes.remaining()) {
                throw corrupt("a snappy chunk of " + chunkBytes + " bytes does not fit the " + bytes.remaining() + " left");
            }
            checkBlock(bytes.slice().limit(chunkBytes));
            bytes.position(bytes.position() + chunkBytes);
        }
    }

    /** A snappy block starts with its uncompressed length, a little-endian base-128 varint of up to 32 bits. */
    private static void checkBlock(ByteBuffer block) {
        int blockBytes = block.remaining();
        long uncompressed = 0;
        for (int shift = 0; ; shift += 7) {
            if (!block.hasRemaining() || shift > 28) {
                throw corrupt("a snappy block's length is malformed");
            }
            int next = block.get() & 0xff;
            uncompressed |= (long) (next & 0x7f) << shift;
            if (next < 0x80) {
                break;
            }
        }
        if (uncompressed > MAX_EXPANSION * blockBytes) {
            throw corrupt("a snappy block of " + blockBytes + " bytes claims to hold " + uncompressed);
        }
    }

    private static boolean startsWithMagic(ByteBuffer bytes) {
        if (bytes.remaining() < STREAM_MAGIC.length) {
            return false;
        }
        for (int i = 0; i < STREAM_MAGIC.length; i++) {
            if (bytes.get(bytes.position() + i) != STREAM_MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    private static InvalidBatchException corrupt(String why) {
        return new InvalidBatchException(Errors.CORRUPT_MESSAGE, "The batch cannot be decompressed: " + why + ".");
    }
}
