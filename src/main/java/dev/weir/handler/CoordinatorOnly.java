package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;

/**
 * A group request is served only by the group's coordinator (the live broker FindCoordinator names);
 * any other broker answers NOT_COORDINATOR, as Kafka's brokers do, and the client looks the coordinator
 * up again. So when the live brokers change and a group's coordinator with them, its members move to
 * the new one instead of staying with the old, and one group never has two coordinators serving it. A
 * request naming several groups (clients send one per coordinator) is refused whole if any is not this
 * broker's.
 */
public final class CoordinatorOnly<R extends AbstractRequest> implements Handler<R> {
    private final BrokerContext broker;
    private final Handler<R> handler;
    private final Function<R, List<String>> groupIds;

    public CoordinatorOnly(BrokerContext broker, Handler<R> handler, Function<R, List<String>> groupIds) {
        this.broker = broker;
        this.handler = handler;
        this.groupIds = groupIds;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, R request) {
        for (String groupId : groupIds.apply(request)) {
            if (groupId != null && !groupId.isEmpty() && broker.cluster().coordinator(groupId).nodeId() != broker.nodeId()) {
                throw new NotCoordinatorException("This broker is not the coordinator of group " + groupId + ".");
            }
        }
        return handler.handle(scope, request);
    }
}
