package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;

/** DescribeGroups: state, protocol and members (with metadata and assignment once Stable). */
public final class DescribeGroupsHandler implements Handler<DescribeGroupsRequest> {
    private final GroupHandlers groups;

    public DescribeGroupsHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, DescribeGroupsRequest request) {
        return groups.administration().describe(request.data().groups(), scope.apiVersion())
            .thenApply(described -> new DescribeGroupsResponse(new DescribeGroupsResponseData().setGroups(described)));
    }
}
