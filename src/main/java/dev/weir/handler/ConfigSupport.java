package dev.weir.handler;

import dev.weir.topics.Topic;
import dev.weir.topics.TopicConfigs;
import dev.weir.topics.TopicService;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource;

/**
 * What the topic and config handlers (CreateTopics, DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs) share: the topic look-up by a resource name and the mapping of a
 * resolved config's source to the id Kafka sends.
 */
final class ConfigSupport {
    /** Answer to any attempt to change broker settings over the wire. */
    static final String STATIC_BROKER_CONFIG_MESSAGE = "Broker configuration is static in Weir: set it in the "
        + "configuration file or WEIR_* environment variables and restart.";

    private ConfigSupport() {
    }

    /**
     * The topic a resource names. An illegal name gets INVALID_TOPIC_EXCEPTION rather than
     * UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers, so a typo is told apart from a missing topic.
     */
    static Topic existingTopic(TopicService topics, String name) {
        TopicService.validateName(name);
        return topics.byName(name).orElseThrow(() ->
            new UnknownTopicOrPartitionException("The topic '" + name + "' does not exist."));
    }

    /**
     * Replaces a topic resource's explicit configs with what {@code newConfigs} computes from the topic;
     * broker resources are refused (their settings are static). Returns the resource's result.
     */
    static org.apache.kafka.common.requests.ApiError alterTopicConfigs(BrokerContext broker, byte resourceType,
            String resourceName, java.util.function.Function<Topic, java.util.Map<String, String>> newConfigs,
            boolean validateOnly) {
        try {
            switch (org.apache.kafka.common.config.ConfigResource.Type.forId(resourceType)) {
                case TOPIC -> {
                    Topic topic = existingTopic(broker.topics(), resourceName);
                    broker.topics().replaceConfigs(topic, newConfigs.apply(topic), validateOnly);
                }
                case BROKER, BROKER_LOGGER -> throw new org.apache.kafka.common.errors.InvalidRequestException(
                    STATIC_BROKER_CONFIG_MESSAGE);
                default -> throw new org.apache.kafka.common.errors.InvalidRequestException("Unsupported resource type");
            }
            return org.apache.kafka.common.requests.ApiError.NONE;
        } catch (RuntimeException e) {
            return ErrorTranslator.toApiError(e);
        }
    }

    /** The DescribeConfigs source id of a topic config's resolution. */
    static byte sourceId(TopicConfigs.Source source) {
        ConfigSource kafkaSource = switch (source) {
            case TOPIC -> ConfigSource.TOPIC_CONFIG;
            case BROKER -> ConfigSource.STATIC_BROKER_CONFIG;
            case DEFAULT -> ConfigSource.DEFAULT_CONFIG;
        };
        return kafkaSource.id();
    }
}
