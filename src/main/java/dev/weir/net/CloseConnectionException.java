package dev.weir.net;

/** The peer sent something that is not a Kafka request we can answer; its connection is closed. */
public final class CloseConnectionException extends RuntimeException {
    public CloseConnectionException(String message) {
        super(message);
    }

    public CloseConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
