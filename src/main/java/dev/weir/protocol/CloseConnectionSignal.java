package dev.weir.protocol;

/**
 * Thrown by a handler when the only way to tell the client about an error is to close its
 * connection, as Kafka does for a produce request with acks=0 that fails: there is no response to
 * carry the error, and the client learns of it by reconnecting and refreshing its metadata.
 */
public final class CloseConnectionSignal extends RuntimeException {
    public CloseConnectionSignal(String message) {
        super(message);
    }
}
