package dev.weir.storage;

import java.nio.channels.FileChannel;

/**
 * What a store that keeps objects as local files (or a local cache of remote objects) offers beyond
 * {@link ObjectStore}: a file channel on an object, so that ranges of it go from file to socket without
 * passing through the process (sendfile). Thread-safe.
 */
public interface FileAccess {
    /** A read channel of its own on the object; the caller closes it. */
    FileChannel openChannel(String key);
}
