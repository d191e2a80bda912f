package dev.weir.log.batch;

import java.nio.ByteBuffer;

/**
 * A produced batch that passed validation, with what the index needs from its header. The buffer
 * holds exactly the batch, its base offset the producer's placeholder until the WAL writer writes in
 * the one it expects the batch to get.
 */
public record ValidatedBatch(ByteBuffer bytes, int offsetCount, long maxTimestamp, long producerId,
                             short producerEpoch, int baseSequence, long logAppendTimeMs) {
    public int sizeInBytes() {
        return bytes.remaining();
    }
}
