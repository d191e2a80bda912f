package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;

/** SyncGroup: members get their assignment once the leader has sent it. */
public final class SyncGroupHandler implements Handler<SyncGroupRequest> {
    private final GroupHandlers groups;

    public SyncGroupHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, SyncGroupRequest request) {
        return groups.classic().sync(request.data()).thenApply(SyncGroupResponse::new);
    }
}
