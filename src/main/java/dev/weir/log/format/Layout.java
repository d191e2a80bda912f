package dev.weir.log.format;

/**
 * How the log names its objects and stamps what it serves: WAL objects (or the WAL files holding them)
 * under {@link #WAL_PREFIX}, merged segments under {@link #SEGMENT_PREFIX}, each keyed by a zero-padded
 * id so that keys sort as ids do; and the leader epoch written into every batch served.
 */
public final class Layout {
    public static final String WAL_PREFIX = "wal/";
    public static final String SEGMENT_PREFIX = "segment/";
    /** The leader epoch a broker reports and writes into every batch it serves. */
    public static final int LEADER_EPOCH = 0;

    private Layout() {
    }

    public static String objectKey(String prefix, long id) {
        return prefix + String.format("%020d", id);
    }

    public static long objectId(String prefix, String key) {
        return Long.parseLong(key.substring(prefix.length()));
    }
}
