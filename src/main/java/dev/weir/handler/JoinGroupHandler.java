package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;

/** JoinGroup: answered when the group's join phase completes (the coordinator holds the request). */
public final class JoinGroupHandler implements Handler<JoinGroupRequest> {
    private final GroupHandlers groups;

    public JoinGroupHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, JoinGroupRequest request) {
        String host = scope.context().clientAddress().toString();
        return groups.classic().join(request.data(), scope.context().clientId(), host, scope.apiVersion())
            .thenApply(data -> new JoinGroupResponse(data, scope.apiVersion()));
    }
}
