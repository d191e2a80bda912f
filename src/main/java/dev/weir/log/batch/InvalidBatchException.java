package dev.weir.log.batch;

import org.apache.kafka.common.protocol.Errors;

/** A produced batch that a Kafka broker would refuse; carries the error code for its partition. */
public final class InvalidBatchException extends RuntimeException {
    private final Errors error;

    public InvalidBatchException(Errors error, String message) {
        super(message);
        this.error = error;
    }

    public Errors error() {
        return error;
    }
}
