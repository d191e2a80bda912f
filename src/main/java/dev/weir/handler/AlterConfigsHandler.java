package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterConfigsRequest;
import org.apache.kafka.common.requests.AlterConfigsResponse;
import org.apache.kafka.common.requests.ApiError;

/**
 * Answers the legacy AlterConfigs (v0-2), which replaces a topic's explicit configs with exactly the
 * entries given: a config left out goes back to its broker or default value. Broker settings are
 * static in Weir, so broker resources are refused. Each resource gets its own result.
 */
public final class AlterConfigsHandler implements Handler<AlterConfigsRequest> {
    private final BrokerContext broker;

    public AlterConfigsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, AlterConfigsRequest request) {
        boolean validateOnly = request.data().validateOnly();
        List<AlterConfigsResource> resources = new ArrayList<>(request.data().resources());
        // All resources in one I/O task: config changes write to the metadata store.
        return broker.onIo(() -> {
            AlterConfigsResponseData data = new AlterConfigsResponseData().setThrottleTimeMs(0);
            for (AlterConfigsResource resource : resources) {
                ApiError error = alter(resource, validateOnly);
                data.responses().add(new AlterConfigsResourceResponse()
                    .setErrorCode(error.error().code())
                    .setErrorMessage(error.message())
                    .setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName()));
            }
            return new AlterConfigsResponse(data);
        });
    }

    private ApiError alter(AlterConfigsResource resource, boolean validateOnly) {
        return ConfigSupport.alterTopicConfigs(broker, resource.resourceType(), resource.resourceName(),
            topic -> newConfigs(resource), validateOnly);
    }


    /** The topic's new explicit configs; values are validated by the topic service. */
    private static Map<String, String> newConfigs(AlterConfigsResource resource) {
        Map<String, String> configs = new LinkedHashMap<>();
        for (AlterableConfig config : resource.configs()) {
            // Two values for one key would leave the outcome to request order; refuse instead.
            if (configs.containsKey(config.name())) {
                throw new org.apache.kafka.common.errors.InvalidRequestException("Error due to duplicate config keys");
            }
            configs.put(config.name(), config.value());
        }
        return configs;
    }
}
