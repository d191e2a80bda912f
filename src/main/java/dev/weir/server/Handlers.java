package dev.weir.server;

import dev.weir.handler.AlterConfigsHandler;
import dev.weir.handler.BrokerContext;
import dev.weir.handler.CreatePartitionsHandler;
import dev.weir.handler.CreateTopicsHandler;
import dev.weir.handler.CoordinatorOnly;
import dev.weir.handler.DeleteGroupsHandler;
import dev.weir.handler.DeleteRecordsHandler;
import dev.weir.handler.DescribeGroupsHandler;
import dev.weir.handler.FindCoordinatorHandler;
import dev.weir.handler.GroupHandlers;
import dev.weir.handler.HeartbeatHandler;
import dev.weir.handler.JoinGroupHandler;
import dev.weir.handler.LeaveGroupHandler;
import dev.weir.handler.ListGroupsHandler;
import dev.weir.handler.OffsetCommitHandler;
import dev.weir.handler.OffsetDeleteHandler;
import dev.weir.handler.OffsetFetchHandler;
import dev.weir.handler.SyncGroupHandler;
import dev.weir.handler.DeleteTopicsHandler;
import dev.weir.handler.DescribeClusterHandler;
import dev.weir.handler.DescribeConfigsHandler;
import dev.weir.handler.FetchHandler;
import dev.weir.handler.IncrementalAlterConfigsHandler;
import dev.weir.handler.InitProducerIdHandler;
import dev.weir.handler.ListOffsetsHandler;
import dev.weir.handler.MetadataHandler;
import dev.weir.handler.OffsetForLeaderEpochHandler;
import dev.weir.handler.ProduceHandler;
import dev.weir.protocol.HandlerRegistry;
import java.util.List;
import org.apache.kafka.common.protocol.ApiKeys;

/** The table of implemented Kafka APIs (ApiVersions is added by the broker, as it reads this table). */
final class Handlers {
    private Handlers() {
    }

    static HandlerRegistry registry(BrokerContext broker, GroupHandlers groups) {
        return new HandlerRegistry()
            .register(ApiKeys.FIND_COORDINATOR, new FindCoordinatorHandler(broker))
            .register(ApiKeys.JOIN_GROUP, new CoordinatorOnly<>(broker, new JoinGroupHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.SYNC_GROUP, new CoordinatorOnly<>(broker, new SyncGroupHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.HEARTBEAT, new CoordinatorOnly<>(broker, new HeartbeatHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.LEAVE_GROUP, new CoordinatorOnly<>(broker, new LeaveGroupHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.OFFSET_COMMIT, new CoordinatorOnly<>(broker, new OffsetCommitHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.OFFSET_FETCH, new CoordinatorOnly<>(broker, new OffsetFetchHandler(groups),
                request -> request.data().groups().isEmpty() ? List.of(request.data().groupId())
                    : request.data().groups().stream().map(group -> group.groupId()).toList()))
            .register(ApiKeys.OFFSET_DELETE, new CoordinatorOnly<>(broker, new OffsetDeleteHandler(groups),
                request -> List.of(request.data().groupId())))
            .register(ApiKeys.LIST_GROUPS, new ListGroupsHandler(groups))
            .register(ApiKeys.DESCRIBE_GROUPS, new CoordinatorOnly<>(broker, new DescribeGroupsHandler(groups),
                request -> request.data().groups()))
            .register(ApiKeys.DELETE_GROUPS, new CoordinatorOnly<>(broker, new DeleteGroupsHandler(groups),
                request -> request.data().groupsNames()))
            .register(ApiKeys.METADATA, new MetadataHandler(broker))
            .register(ApiKeys.PRODUCE, new ProduceHandler(broker))
            .register(ApiKeys.FETCH, new FetchHandler(broker))
            .register(ApiKeys.LIST_OFFSETS, new ListOffsetsHandler(broker))
            .register(ApiKeys.INIT_PRODUCER_ID, new InitProducerIdHandler(broker))
            .register(ApiKeys.DELETE_RECORDS, new DeleteRecordsHandler(broker))
            .register(ApiKeys.OFFSET_FOR_LEADER_EPOCH, new OffsetForLeaderEpochHandler(broker))
            .register(ApiKeys.CREATE_TOPICS, new CreateTopicsHandler(broker))
            .register(ApiKeys.DELETE_TOPICS, new DeleteTopicsHandler(broker))
            .register(ApiKeys.CREATE_PARTITIONS, new CreatePartitionsHandler(broker))
            .register(ApiKeys.DESCRIBE_CONFIGS, new DescribeConfigsHandler(broker))
            .register(ApiKeys.ALTER_CONFIGS, new AlterConfigsHandler(broker))
            .register(ApiKeys.INCREMENTAL_ALTER_CONFIGS, new IncrementalAlterConfigsHandler(broker))
            .register(ApiKeys.DESCRIBE_CLUSTER, new DescribeClusterHandler(broker));
    }
}
