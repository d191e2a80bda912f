package dev.weir.log;

/** The partition is not (or no longer) in the log. */
public final class UnknownPartitionException extends RuntimeException {
    public UnknownPartitionException(String message) {
        super(message);
    }
}
