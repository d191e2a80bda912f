package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicConfigs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.AlterConfigOp.OpType;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.IncrementalAlterConfigsRequest;
import org.apache.kafka.common.requests.IncrementalAlterConfigsResponse;

/**
 * Answers IncrementalAlterConfigs (v0-1): applies set, delete, append and subtract operations to a
 * topic's explicit configs, leaving the configs not named as they are. Broker settings are static
 * in Weir, so broker resources are refused. Each resource gets its own result.
 */
public final class IncrementalAlterConfigsHandler implements Handler<IncrementalAlterConfigsRequest> {
    private final BrokerContext broker;

    public IncrementalAlterConfigsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, IncrementalAlterConfigsRequest request) {
        boolean validateOnly = request.data().validateOnly();
        List<AlterConfigsResource> resources = new ArrayList<>(request.data().resources());
        // All resources in one I/O task: config changes write to the metadata store, and each change
        // must start from the configs the previous one left.
        return broker.onIo(() -> {
            IncrementalAlterConfigsResponseData data = new IncrementalAlterConfigsResponseData().setThrottleTimeMs(0);
            for (AlterConfigsResource resource : resources) {
                ApiError error = alter(resource, validateOnly);
                data.responses().add(new AlterConfigsResourceResponse()
                    .setErrorCode(error.error().code())
                    .setErrorMessage(error.message())
                    .setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName()));
            }
            return new IncrementalAlterConfigsResponse(data);
        });
    }

    private ApiError alter(AlterConfigsResource resource, boolean validateOnly) {
        return ConfigSupport.alterTopicConfigs(broker, resource.resourceType(), resource.resourceName(),
            topic -> applyAll(topic, resource), validateOnly);
    }


    /** The topic's explicit configs after every operation; the topic service validates the values. */
    private Map<String, String> applyAll(Topic topic, AlterConfigsResource resource) {
        Set<String> names = new HashSet<>();
        for (AlterableConfig config : resource.configs()) {
            // Two operations on one key would leave the outcome to request order; refuse instead.
            if (!names.add(config.name())) {
                throw new org.apache.kafka.common.errors.InvalidRequestException("Error due to duplicate config keys");
            }
        }
        Map<String, String> explicit = new LinkedHashMap<>(topic.configs());
        for (AlterableConfig config : resource.configs()) {
            apply(explicit, config);
        }
        return explicit;
    }

    private void apply(Map<String, String> explicit, AlterableConfig config) {
        String name = config.name();
        TopicConfigs.Definition definition = TopicConfigs.definition(name);
        if (definition == null) {
            // Checked for every operation, so deleting a misspelt key is an error, not a silent no-op.
            throw new InvalidConfigurationException("Unknown topic config name: " + name);
        }
        OpType op = OpType.forId(config.configOperation());
        if (op == null) {
            throw new InvalidRequestException("Unknown config operation " + config.configOperation() + " for " + name);
        }
        switch (op) {
            case SET -> explicit.put(name, config.value());
            case DELETE -> explicit.remove(name);
            case APPEND, SUBTRACT -> {
                if (definition.type() != ConfigDef.Type.LIST) {
                    String verb = op == OpType.APPEND ? "append" : "subtract";
                    throw new InvalidConfigurationException("Config value " + verb
                        + " is not allowed for config key: " + name);
                }
                explicit.put(name, listAfter(op, broker.topics().configs().value(name, explicit), config.value()));
            }
        }
    }

    /**
     * A list value after appending or subtracting items. Both start from the value in force, which
     * may be the broker's or the default, as Kafka does.
     */
    private static String listAfter(OpType op, String current, String change) {
        List<String> items = split(current);
        for (String item : split(change)) {
            if (op == OpType.APPEND && !items.contains(item)) {
                items.add(item);
            } else if (op == OpType.SUBTRACT) {
                items.remove(item);
            }
        }
        return String.join(",", items);
    }

    private static List<String> split(String value) {
        List<String> items = new ArrayList<>();
        if (value == null) {
            return items;
        }
        for (String item : value.split(",")) {
            if (!item.trim().isEmpty()) {
                items.add(item.trim());
            }
        }
        return items;
    }
}
