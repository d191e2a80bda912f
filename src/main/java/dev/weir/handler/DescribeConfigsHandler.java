package dev.weir.handler;

import dev.weir.config.BrokerConfig;
import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import dev.weir.topics.Topic;
import dev.weir.topics.TopicConfigs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DescribeConfigsRequest;
import org.apache.kafka.common.requests.DescribeConfigsResponse;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigType;

/**
 * Answers DescribeConfigs (v1-4) for topics (every topic config, resolved topic, then broker, then
 * default), this broker (its static settings, all read-only) and this broker's loggers (none are
 * exposed). Each resource gets its own result and error. Everything read is in memory, so the
 * answer is built on the event loop.
 */
public final class DescribeConfigsHandler implements Handler<DescribeConfigsRequest> {
    private final BrokerContext broker;

    public DescribeConfigsHandler(BrokerContext broker) {
        this.broker = broker;
    }

    /** What the request asks to see of each config, besides name and value. */
    private record Detail(boolean synonyms, boolean documentation, boolean configType) {
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, DescribeConfigsRequest request) {
        DescribeConfigsRequestData requestData = request.data();
        short version = request.version();
        Detail detail = new Detail(requestData.includeSynonyms(),
            version >= 3 && requestData.includeDocumentation(), version >= 3);
        DescribeConfigsResponseData data = new DescribeConfigsResponseData().setThrottleTimeMs(0);
        for (DescribeConfigsResource resource : requestData.resources()) {
            data.results().add(describe(resource, detail));
        }
        return CompletableFuture.completedFuture(new DescribeConfigsResponse(data));
    }

    private DescribeConfigsResult describe(DescribeConfigsResource resource, Detail detail) {
        DescribeConfigsResult result = new DescribeConfigsResult()
            .setResourceType(resource.resourceType())
            .setResourceName(resource.resourceName());
        ApiError error = ApiError.NONE;
        try {
            result.setConfigs(configs(resource, detail));
        } catch (RuntimeException e) {
            error = ErrorTranslator.toApiError(e);
        }
        return result.setErrorCode(error.error().code()).setErrorMessage(error.message());
    }

    private List<DescribeConfigsResourceResult> configs(DescribeConfigsResource resource, Detail detail) {
        // A null key list means "all keys"; keys we do not know are left out rather than failed.
        Set<String> wanted = resource.configurationKeys() == null ? null : new HashSet<>(resource.configurationKeys());
        switch (ConfigResource.Type.forId(resource.resourceType())) {
            case TOPIC:
                return topicConfigs(ConfigSupport.existingTopic(broker.topics(), resource.resourceName()), wanted, detail);
            case BROKER:
                checkBrokerName(resource.resourceName());
                return brokerConfigs(wanted, detail);
            case BROKER_LOGGER:
                checkBrokerName(resource.resourceName());
                return new ArrayList<>();
            default:
                throw new InvalidRequestException("Unsupported resource type");
        }
    }

    private void checkBrokerName(String name) {
        String nodeId = String.valueOf(broker.nodeId());
        if (!name.isEmpty() && !name.equals(nodeId)) {
            throw new InvalidRequestException("Unexpected broker id, expected " + nodeId
                + " or empty string, but received " + name);
        }
    }

    private List<DescribeConfigsResourceResult> topicConfigs(Topic topic, Set<String> wanted, Detail detail) {
        List<DescribeConfigsResourceResult> configs = new ArrayList<>();
        for (String name : TopicConfigs.names()) {
            if (wanted != null && !wanted.contains(name)) {
                continue;
            }
            TopicConfigs.Resolved resolved = broker.topics().configs().resolve(name, topic.configs());
            List<DescribeConfigsSynonym> synonyms = new ArrayList<>();
            if (detail.synonyms()) {
                for (TopicConfigs.Synonym synonym : resolved.synonyms()) {
                    synonyms.add(synonym(synonym.name(), synonym.value(), ConfigSupport.sourceId(synonym.source())));
                }
            }
            DescribeConfigsResourceResult config = new DescribeConfigsResourceResult()
                .setName(name)
                .setValue(resolved.value())
                .setReadOnly(false)
                .setConfigSource(ConfigSupport.sourceId(resolved.source()))
                .setIsSensitive(false)
                .setSynonyms(synonyms);
            configs.add(withTypeAndDocumentation(config, resolved.definition().type(),
                resolved.definition().documentation(), detail));
        }
        return configs;
    }

    private List<DescribeConfigsResourceResult> brokerConfigs(Set<String> wanted, Detail detail) {
        List<DescribeConfigsResourceResult> configs = new ArrayList<>();
        for (ConfigDef.ConfigKey key : BrokerConfig.DEFINITION.configKeys().values()) {
            if (wanted != null && !wanted.contains(key.name)) {
                continue;
            }
            // As Kafka answers: a secret's value is never sent.
            boolean sensitive = key.type == ConfigDef.Type.PASSWORD;
            String value = sensitive ? null : broker.config().valueAsString(key.name);
            byte source = broker.config().isExplicit(key.name)
                ? ConfigSource.STATIC_BROKER_CONFIG.id() : ConfigSource.DEFAULT_CONFIG.id();
            List<DescribeConfigsSynonym> synonyms = new ArrayList<>();
            if (detail.synonyms()) {
                synonyms.add(synonym(key.name, value, source));
            }
            // Read-only: Weir's broker settings change only with a restart.
            DescribeConfigsResourceResult config = new DescribeConfigsResourceResult()
                .setName(key.name)
                .setValue(value)
                .setReadOnly(true)
                .setConfigSource(source)
                .setIsSensitive(sensitive)
                .setSynonyms(synonyms);
            configs.add(withTypeAndDocumentation(config, key.type, key.documentation, detail));
        }
        return configs;
    }

    private static DescribeConfigsSynonym synonym(String name, String value, byte source) {
        return new DescribeConfigsSynonym().setName(name).setValue(value).setSource(source);
    }

    private static DescribeConfigsResourceResult withTypeAndDocumentation(DescribeConfigsResourceResult config,
                                                                          ConfigDef.Type type, String documentation,
                                                                          Detail detail) {
        if (detail.configType()) {
            config.setConfigType(configType(type).id());
        }
        return config.setDocumentation(detail.documentation() ? documentation : null);
    }

    private static ConfigType configType(ConfigDef.Type type) {
        return switch (type) {
            case BOOLEAN -> ConfigType.BOOLEAN;
            case STRING -> ConfigType.STRING;
            case INT -> ConfigType.INT;
            case SHORT -> ConfigType.SHORT;
            case LONG -> ConfigType.LONG;
            case DOUBLE -> ConfigType.DOUBLE;
            case LIST -> ConfigType.LIST;
            case CLASS -> ConfigType.CLASS;
            case PASSWORD -> ConfigType.PASSWORD;
        };
    }
}
