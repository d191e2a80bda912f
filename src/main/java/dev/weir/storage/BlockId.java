package dev.weir.storage;

/** Block {@code index} of an object: its bytes from {@code index} times the block size on. */
record BlockId(String key, long index) {
}
