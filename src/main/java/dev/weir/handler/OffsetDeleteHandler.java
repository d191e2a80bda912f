package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetDeleteResponse;

/** OffsetDelete: removes a group's offsets for topics it is not subscribed to. */
public final class OffsetDeleteHandler implements Handler<OffsetDeleteRequest> {
    private final GroupHandlers groups;

    public OffsetDeleteHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, OffsetDeleteRequest request) {
        return groups.offsets().delete(request.data()).thenApply(OffsetDeleteResponse::new);
    }
}
