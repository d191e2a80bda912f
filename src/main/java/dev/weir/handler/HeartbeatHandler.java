package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;

/** Heartbeat of the classic protocol: keeps the member's session, reports rebalances. */
public final class HeartbeatHandler implements Handler<HeartbeatRequest> {
    private final GroupHandlers groups;

    public HeartbeatHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, HeartbeatRequest request) {
        return groups.classic().heartbeat(request.data()).thenApply(HeartbeatResponse::new);
    }
}
