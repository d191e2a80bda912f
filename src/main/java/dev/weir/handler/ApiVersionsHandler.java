package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.HandlerRegistry;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;

/**
 * ApiVersions: the APIs of the registry, each with the versions Weir implements. A request of a
 * version the broker does not know gets UNSUPPORTED_VERSION in v0 form with ApiVersions' own range,
 * which is how a Kafka client learns to retry with an older version.
 */
public final class ApiVersionsHandler implements Handler<ApiVersionsRequest> {
    private final HandlerRegistry registry;

    public ApiVersionsHandler(HandlerRegistry registry) {
        this.registry = registry;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ApiVersionsRequest request) {
        if (request.hasUnsupportedRequestVersion()) {
            return CompletableFuture.completedFuture(request.getErrorResponse(0,
                new UnsupportedVersionException("ApiVersions v" + scope.context().header.apiVersion() + " is not supported.")));
        }
        if (!request.isValid()) {
            return CompletableFuture.completedFuture(request.getErrorResponse(0,
                new InvalidRequestException("Invalid client software name or version.")));
        }
        ApiVersionsResponseData data = new ApiVersionsResponseData()
            .setErrorCode((short) 0)
            .setThrottleTimeMs(0)
            .setApiKeys(registry.advertisedVersions());
        return CompletableFuture.completedFuture(new ApiVersionsResponse(data));
    }
}
