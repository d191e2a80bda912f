package dev.weir.log.append;

import dev.weir.storage.WalFile;

/**
 * Where a sealed WAL object goes: under {@code key} (a WAL file, or an object of its own) from
 * {@code position}, whether it is the key's first object, and the bytes it takes there ({@code
 * footprint}: its size, padded as the target needs). {@code file} is the WAL file written in place (null
 * for an object of its own) and {@code retired} the file this object's key replaces, released once the
 * object is committed.
 */
record WalPlacement(String key, long position, boolean firstInKey, long footprint, WalFile file, WalFile retired) {
}
