package dev.weir.handler;

import dev.weir.metadata.BrokerRegistration;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.EndpointType;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DescribeClusterRequest;
import org.apache.kafka.common.requests.DescribeClusterResponse;
import org.apache.kafka.common.utils.Utils;

/**
 * Answers DescribeCluster (v0-2): the cluster is this one broker, which is also reported as the
 * controller. Weir has no controller endpoint, so a request for controllers is refused.
 */
public final class DescribeClusterHandler implements Handler<DescribeClusterRequest> {
    /**
     * The cluster operations a client is told it may perform: all of them, since Weir has no
     * authorisation (every client is allowed everything).
     */
    private static final int ALL_CLUSTER_OPERATIONS = Utils.to32BitField(Set.of(
        AclOperation.DESCRIBE.code(),
        AclOperation.ALTER.code(),
        AclOperation.DESCRIBE_CONFIGS.code(),
        AclOperation.ALTER_CONFIGS.code(),
        AclOperation.CREATE.code(),
        AclOperation.CLUSTER_ACTION.code(),
        AclOperation.IDEMPOTENT_WRITE.code()));

    private final BrokerContext broker;

    public DescribeClusterHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, DescribeClusterRequest request) {
        // Before v1 the field is absent and reads as its default, 1 (brokers).
        byte endpointType = request.data().endpointType();
        DescribeClusterResponseData data = new DescribeClusterResponseData()
            .setThrottleTimeMs(0)
            .setEndpointType(EndpointType.BROKER.id());
        if (endpointType != EndpointType.BROKER.id()) {
            data.setErrorCode(Errors.MISMATCHED_ENDPOINT_TYPE.code())
                .setErrorMessage("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type "
                    + EndpointType.fromId(endpointType) + ".");
            return CompletableFuture.completedFuture(new DescribeClusterResponse(data));
        }
        for (BrokerRegistration live : broker.cluster().live()) {
            data.brokers().add(new DescribeClusterBroker()
                .setBrokerId(live.nodeId())
                .setHost(live.host())
                .setPort(live.port())
                .setRack(live.rack())
                .setIsFenced(false));
        }
        data.setErrorCode(Errors.NONE.code())
            .setClusterId(broker.clusterId())
            .setControllerId(broker.cluster().controllerId())
            .setClusterAuthorizedOperations(request.data().includeClusterAuthorizedOperations()
                ? ALL_CLUSTER_OPERATIONS : Integer.MIN_VALUE);
        return CompletableFuture.completedFuture(new DescribeClusterResponse(data));
    }
}
