package dev.weir.handler;

import dev.weir.metadata.BrokerRegistration;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;

/**
 * FindCoordinator: a group's coordinator is the live broker that ranks first for its id by rendezvous
 * hashing, the same on every broker (a single node coordinates every group). Transaction and share coordinators do not
 * exist yet, so those key types get INVALID_REQUEST (a non-retriable answer, so clients fail fast).
 */
public final class FindCoordinatorHandler implements Handler<FindCoordinatorRequest> {
    private final BrokerContext broker;

    public FindCoordinatorHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, FindCoordinatorRequest request) {
        byte keyType = request.data().keyType();
        FindCoordinatorResponseData data = new FindCoordinatorResponseData();
        if (scope.apiVersion() >= 4) {
            for (String key : request.data().coordinatorKeys()) {
                data.coordinators().add(coordinator(key, keyType));
            }
        } else {
            Coordinator answer = coordinator(request.data().key(), keyType);
            data.setErrorCode(answer.errorCode()).setErrorMessage(answer.errorMessage()).setNodeId(answer.nodeId())
                .setHost(answer.host()).setPort(answer.port());
        }
        return CompletableFuture.completedFuture(new FindCoordinatorResponse(data));
    }

    private Coordinator coordinator(String key, byte keyType) {
        Coordinator coordinator = new Coordinator().setKey(key);
        if (keyType != 0) {
            return coordinator.setErrorCode(Errors.INVALID_REQUEST.code()).setNodeId(-1).setHost("").setPort(-1)
                .setErrorMessage("Only group coordinators exist on this broker; transactions and share groups are not supported yet.");
        }
        if (key == null || key.isEmpty()) {
            return coordinator.setErrorCode(Errors.INVALID_REQUEST.code()).setNodeId(-1).setHost("").setPort(-1)
                .setErrorMessage("The group id must not be empty.");
        }
        BrokerRegistration chosen = broker.cluster().coordinator(key);
        return coordinator.setErrorCode(Errors.NONE.code()).setNodeId(chosen.nodeId())
            .setHost(chosen.host()).setPort(chosen.port());
    }

}
