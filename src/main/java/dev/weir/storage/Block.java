package dev.weir.storage;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Bytes of one block of an object, as {@link CachingObjectStore} keeps them: in arrays of at most
 * {@value #CHUNK_BYTES} bytes, under half of G1's smallest region (1 MiB), so that none is a humongous
 * object. Immutable once made.
 */
final class Block {
    static final int CHUNK_BYTES = 256 * 1024;

    private final byte[][] chunks;
    private final int length;

    private Block(byte[][] chunks, int length) {
        this.chunks = chunks;
        this.length = length;
    }

    /** Empty buffers to fill with a block of {@code length} bytes, in order, and then to make one {@link #of}. */
    static ByteBuffer[] allocate(int length) {
        ByteBuffer[] chunks = new ByteBuffer[(int) ((length + (long) CHUNK_BYTES - 1) / CHUNK_BYTES)];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = ByteBuffer.wrap(new byte[Math.min(CHUNK_BYTES, length - i * CHUNK_BYTES)]);
        }
        return chunks;
    }

    /**
     * The block of the bytes written into buffers from {@link #allocate}, up to their positions: in order,
     * so that only the last one written may be partly filled (at the object's end), and is cut to its bytes.
     */
    static Block of(ByteBuffer[] filled) {
        byte[][] chunks = new byte[filled.length][];
        int count = 0;
        int length = 0;
        for (ByteBuffer chunk : filled) {
            if (chunk.position() == 0) {
                break;
            }
            if (count > 0 && chunks[count - 1].length < CHUNK_BYTES) {
                throw new IllegalStateException("bytes after a partly filled chunk of a block");
            }
            chunks[count++] = chunk.position() == chunk.capacity() ? chunk.array()
                : Arrays.copyOf(chunk.array(), chunk.position());
            length += chunk.position();
        }
        return new Block(Arrays.copyOf(chunks, count), length);
    }

    int length() {
        return length;
    }

    /** Puts {@code count} bytes from {@code offset} into the target. */
    void copyTo(int offset, ByteBuffer target, int count) {
        while (count > 0) {
            int at = offset % CHUNK_BYTES;
            int piece = Math.min(count, CHUNK_BYTES - at);
            target.put(chunks[offset / CHUNK_BYTES], at, piece);
            offset += piece;
            count -= piece;
        }
    }
}
