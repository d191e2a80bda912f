package dev.weir.handler;

import dev.weir.groups.ConsumerGroupCoordinator;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;

/**
 * ConsumerGroupHeartbeat (KIP-848): joins, heartbeats and leaves of consumer-protocol members,
 * answered with the member's epoch and, when it changed, its assignment. From v1 the client
 * generates its member id, so an empty one is an invalid request; v0 lets the coordinator make one.
 * Stateless; the coordinator does the work on its own thread.
 */
public final class ConsumerGroupHeartbeatHandler implements Handler<ConsumerGroupHeartbeatRequest> {
    private final ConsumerGroupCoordinator coordinator;

    public ConsumerGroupHeartbeatHandler(ConsumerGroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ConsumerGroupHeartbeatRequest request) {
        ConsumerGroupHeartbeatRequestData data = request.data();
        if (scope.apiVersion() >= ConsumerGroupHeartbeatRequest.CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION
            && data.memberId().isBlank()) {
            return CompletableFuture.completedFuture(new ConsumerGroupHeartbeatResponse(
                new ConsumerGroupHeartbeatResponseData().setErrorCode(Errors.INVALID_REQUEST.code())
                    .setErrorMessage("MemberId can't be empty.")));
        }
        String host = scope.context().clientAddress().toString();
        return coordinator.heartbeat(data, scope.context().clientId(), host)
            .thenApply(ConsumerGroupHeartbeatResponse::new);
    }
}
