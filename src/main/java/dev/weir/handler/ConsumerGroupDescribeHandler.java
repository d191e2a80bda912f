package dev.weir.handler;

import dev.weir.groups.ConsumerGroupCoordinator;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ConsumerGroupDescribeRequest;
import org.apache.kafka.common.requests.ConsumerGroupDescribeResponse;

/**
 * ConsumerGroupDescribe (KIP-848): each consumer-protocol group's state, epochs, assignor and
 * members with their current and target assignments; GROUP_ID_NOT_FOUND for any other id, which
 * makes the Admin client fall back to DescribeGroups. Stateless; the coordinator does the work.
 */
public final class ConsumerGroupDescribeHandler implements Handler<ConsumerGroupDescribeRequest> {
    private final ConsumerGroupCoordinator coordinator;

    public ConsumerGroupDescribeHandler(ConsumerGroupCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, ConsumerGroupDescribeRequest request) {
        return coordinator.describe(request.data().groupIds(), request.data().includeAuthorizedOperations())
            .thenApply(groups -> new ConsumerGroupDescribeResponse(
                new ConsumerGroupDescribeResponseData().setGroups(groups)));
    }
}
