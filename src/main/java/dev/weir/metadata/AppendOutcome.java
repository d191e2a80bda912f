package dev.weir.metadata;

/**
 * The result of committing one batch: its base offset, or why it was refused ({@code failure}, null
 * when the batch was appended). A duplicate of an already committed batch gets the original base offset
 * and no failure, as Kafka answers retries; {@code duplicate} tells that no new offsets were taken.
 */
public record AppendOutcome(AppendFailure failure, long baseOffset, long logStartOffset, String message,
                            boolean duplicate) {
    public static AppendOutcome appended(long baseOffset, long logStartOffset) {
        return new AppendOutcome(null, baseOffset, logStartOffset, null, false);
    }

    public static AppendOutcome duplicateOf(long baseOffset, long logStartOffset) {
        return new AppendOutcome(null, baseOffset, logStartOffset, null, true);
    }

    public static AppendOutcome failed(AppendFailure failure, String message) {
        return new AppendOutcome(failure, -1, -1, message, false);
    }

    public boolean succeeded() {
        return failure == null;
    }

    public boolean tookNewOffsets() {
        return failure == null && !duplicate;
    }
}
