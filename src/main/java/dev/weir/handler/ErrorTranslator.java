package dev.weir.handler;

import dev.weir.log.batch.InvalidBatchException;
import dev.weir.log.UnknownPartitionException;
import dev.weir.metadata.AppendFailure;
import dev.weir.metadata.MetadataException;
import dev.weir.runtime.FatalErrors;
import dev.weir.storage.StorageException;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one map from Weir's internal exceptions to the Kafka errors a broker sends. Storage and
 * metadata-database failures become KAFKA_STORAGE_ERROR (logged once here), so a failing disk fails
 * the affected requests and the broker keeps serving the rest. An error of the JVM itself
 * ({@link FatalErrors}) is not mapped: it stops the broker.
 */
public final class ErrorTranslator {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorTranslator.class);

    private ErrorTranslator() {
    }

    public static RuntimeException toApiException(Throwable error) {
        // An error of the JVM (possibly wrapped by a future's join) has no Kafka error code: the broker stops.
        FatalErrors.haltIfFatal(error);
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ApiException api) {
            return api;
        }
        if (cause instanceof InvalidBatchException invalid) {
            return invalid.error().exception(invalid.getMessage());
        }
        if (cause instanceof UnknownPartitionException unknown) {
            return new UnknownTopicOrPartitionException(unknown.getMessage());
        }
        if (cause instanceof StorageException || cause instanceof MetadataException) {
            LOG.error("Storage failure; the request gets KAFKA_STORAGE_ERROR", cause);
            return new KafkaStorageException("The broker's storage failed: " + cause.getMessage());
        }
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        return new CompletionException(cause);
    }

    /** The Kafka error a broker answers a batch with when the storage core refused it. */
    public static Errors toError(AppendFailure failure) {
        return switch (failure) {
            case PARTITION_DELETED -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case STALE_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            case OUT_OF_ORDER_SEQUENCE -> Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
            case SHUTTING_DOWN -> Errors.NOT_LEADER_OR_FOLLOWER;
            case STORAGE_FAILED -> Errors.KAFKA_STORAGE_ERROR;
            // Kafka's answer when the outcome of a write is unknown: the producer must not assume it failed.
            case OUTCOME_UNKNOWN -> Errors.REQUEST_TIMED_OUT;
            case INTERNAL_ERROR -> Errors.UNKNOWN_SERVER_ERROR;
        };
    }

    /** The Kafka error and message for a failure, logging the unexpected ones. */
    public static ApiError toApiError(Throwable error) {
        RuntimeException translated = toApiException(error);
        ApiError apiError = ApiError.fromThrowable(translated);
        if (apiError.error() == Errors.UNKNOWN_SERVER_ERROR) {
            LOG.error("Unexpected error", translated);
        }
        return apiError;
    }
}
