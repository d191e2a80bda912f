package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;

/** OffsetCommit: durable in the metadata database before it is answered. */
public final class OffsetCommitHandler implements Handler<OffsetCommitRequest> {
    private final GroupHandlers groups;

    public OffsetCommitHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, OffsetCommitRequest request) {
        return groups.offsets().commit(request.data(), scope.apiVersion()).thenApply(OffsetCommitResponse::new);
    }
}
