package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;

/** ListGroups, with the state (v4+) and type (v5+) filters. */
public final class ListGroupsHandler implements Handler<ListGroupsRequest> {
    private final GroupHandlers groups;

    public ListGroupsHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ListGroupsRequest request) {
        return groups.administration().list(request.data().statesFilter(), request.data().typesFilter())
            .thenApply(listed -> new ListGroupsResponse(new ListGroupsResponseData().setErrorCode((short) 0)
                .setGroups(listed)));
    }
}
