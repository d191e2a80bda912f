package dev.weir.handler;

import dev.weir.cluster.Rendezvous;
import dev.weir.config.BrokerConfig;
import dev.weir.log.Log;
import dev.weir.metadata.BrokerRegistration;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseBroker;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;

/**
 * Metadata: this node (with its advertised address) as the only broker, controller and leader of
 * every partition, and the requested topics (all when the list is null). Unknown topics are created
 * when both the request and {@code auto.create.topics.enable} allow it; creation writes the database,
 * so such a request is answered from the I/O executor.
 */
public final class MetadataHandler implements Handler<MetadataRequest> {
    private final BrokerContext broker;

    public MetadataHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, MetadataRequest request) {
        List<MetadataRequestTopic> requested = request.isAllTopics() ? null : request.data().topics();
        boolean autoCreate = request.data().allowAutoTopicCreation()
            && broker.config().getBoolean(BrokerConfig.AUTO_CREATE_TOPICS_ENABLE);
        if (requested != null && autoCreate && anyMissing(requested)) {
            return broker.onIo(() -> respond(request, requested, true));
        }
        return CompletableFuture.completedFuture(respond(request, requested, false));
    }

    private boolean anyMissing(List<MetadataRequestTopic> requested) {
        for (MetadataRequestTopic topic : requested) {
            if (topic.name() != null && !topic.name().isEmpty() && broker.topics().byName(topic.name()).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private AbstractResponse respond(MetadataRequest request, List<MetadataRequestTopic> requested, boolean autoCreate) {
        MetadataResponseData data = new MetadataResponseData()
            .setClusterId(broker.clusterId())
            .setControllerId(broker.cluster().controllerId());
        List<BrokerRegistration> live = broker.cluster().live();
        List<Integer> nodeIds = new ArrayList<>(live.size());
        for (BrokerRegistration registered : live) {
            data.brokers().add(new MetadataResponseBroker().setNodeId(registered.nodeId())
                .setHost(registered.host()).setPort(registered.port()).setRack(registered.rack()));
            nodeIds.add(registered.nodeId());
        }
        if (requested == null) {
            for (Topic topic : broker.topics().sortedTopics()) {
                data.topics().add(describe(topic, nodeIds));
            }
        } else {
            for (MetadataRequestTopic wanted : requested) {
                data.topics().add(lookup(wanted, autoCreate, nodeIds));
            }
        }
        return new MetadataResponse(data, request.version());
    }

    private MetadataResponseTopic lookup(MetadataRequestTopic wanted, boolean autoCreate, List<Integer> nodeIds) {
        // The Java client asks by id with an empty name; Kafka looks a topic up by id whenever one is given.
        if (wanted.name() == null || (wanted.name().isEmpty() && !Uuid.ZERO_UUID.equals(wanted.topicId()))) {
            Optional<Topic> byId = broker.topics().byId(wanted.topicId());
            return byId.map(topic -> describe(topic, nodeIds))
                .orElseGet(() -> error(null, wanted.topicId(), Errors.UNKNOWN_TOPIC_ID));
        }
        try {
            TopicService.validateName(wanted.name());
        } catch (RuntimeException e) {
            return error(wanted.name(), Uuid.ZERO_UUID, Errors.INVALID_TOPIC_EXCEPTION);
        }
        Optional<Topic> topic = broker.topics().byName(wanted.name());
        if (topic.isEmpty() && autoCreate) {
            try {
                topic = Optional.of(broker.topics().create(wanted.name(), -1, (short) -1, null, java.util.Map.of(), false));
            } catch (org.apache.kafka.common.errors.TopicExistsException raced) {
                topic = broker.topics().byName(wanted.name());
            } catch (RuntimeException e) {
                ApiError error = ErrorTranslator.toApiError(e);
                return error(wanted.name(), Uuid.ZERO_UUID, error.error());
            }
        }
        return topic.map(found -> describe(found, nodeIds))
            .orElseGet(() -> error(wanted.name(), Uuid.ZERO_UUID, Errors.UNKNOWN_TOPIC_OR_PARTITION));
    }

    private static MetadataResponseTopic error(String name, Uuid id, Errors error) {
        return new MetadataResponseTopic().setName(name).setTopicId(id).setErrorCode(error.code())
            .setIsInternal(name != null && Topic.isInternal(name));
    }

    /**
     * The topic's partitions, each led by the first live broker of its rendezvous order (every broker serves
     * every partition, so this only spreads the clients; a single node leads them all).
     */
    private MetadataResponseTopic describe(Topic topic, List<Integer> nodeIds) {
        List<MetadataResponsePartition> partitions = new ArrayList<>(topic.partitions());
        for (int index = 0; index < topic.partitions(); index++) {
            int leader = nodeIds.size() == 1 ? nodeIds.get(0) : Rendezvous.order(topic.id(), index, nodeIds).get(0);
            List<Integer> replicas = List.of(leader);
            partitions.add(new MetadataResponsePartition()
                .setPartitionIndex(index)
                .setLeaderId(leader)
                .setLeaderEpoch(Log.LEADER_EPOCH)
                .setReplicaNodes(replicas)
                .setIsrNodes(replicas)
                .setOfflineReplicas(List.of()));
        }
        return new MetadataResponseTopic().setName(topic.name()).setTopicId(topic.id()).setIsInternal(topic.isInternal())
            .setPartitions(partitions);
    }
}
