package dev.weir.protocol;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;

/**
 * Answers one Kafka API. Called on the connection's event loop in request order; must not block
 * (blocking work goes to the I/O executor). A null response means none is sent (acks=0). Exceptions,
 * thrown or completed, become the API's error response through {@code Errors.forException}.
 */
public interface Handler<R extends AbstractRequest> {
    CompletableFuture<AbstractResponse> handle(RequestScope scope, R request);
}
