package dev.weir.log.read;

/** How a read for sending takes stored batches: which it sends from their files and which it copies. */
public enum SendMode {
    /** Every batch is read into memory and its CRC checked before it is sent ({@code fetch.verify.crc}). */
    CHECK_EVERY_BATCH,
    /** Segments and large WAL batches are sent from their files; small WAL batches are copied, which is cheaper. */
    COPY_SMALL_BATCHES,
    /**
     * Every batch is sent from its file, small WAL batches too (behind a rebuilt header), so the read holds
     * next to no memory: for a response whose memory budget is spent.
     */
    FILES_ONLY
}
