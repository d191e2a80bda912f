package dev.weir.metadata;

import org.apache.kafka.common.protocol.Errors;

/**
 * The result of committing one batch: its base offset, or the error that refused it. A duplicate of
 * an already committed batch gets the original base offset and no error, as Kafka answers retries;
 * {@code duplicate} tells that no new offsets were taken.
 */
public record AppendOutcome(Errors error, long baseOffset, long logStartOffset, String message, boolean duplicate) {
    public static AppendOutcome appended(long baseOffset, long logStartOffset) {
        return new AppendOutcome(Errors.NONE, baseOffset, logStartOffset, null, false);
    }

    public static AppendOutcome duplicateOf(long baseOffset, long logStartOffset) {
        return new AppendOutcome(Errors.NONE, baseOffset, logStartOffset, null, true);
    }

    public static AppendOutcome failed(Errors error, String message) {
        return new AppendOutcome(error, -1, -1, message, false);
    }

    public boolean tookNewOffsets() {
        return error == Errors.NONE && !duplicate;
    }
}
