package dev.weir.topics;

import dev.weir.log.policy.CompactionSettings;
import dev.weir.log.policy.TopicLimits;
import dev.weir.log.policy.TopicPolicy;
import org.apache.kafka.common.record.TimestampType;
import dev.weir.config.BrokerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InvalidConfigurationException;

/**
 * Every topic-level config Kafka defines: its type, default, validation, documentation and the
 * broker setting it falls back to (its synonym). Values are resolved topic first, then broker, then
 * default, and each resolution knows its source, as DescribeConfigs reports it. Immutable.
 */
public final class TopicConfigs {
    /** One config: name, type, Kafka's default, broker synonym (or null) and documentation. */
    public record Definition(String name, Type type, Object defaultValue, String brokerSynonym, String documentation,
                             ConfigDef.Validator validator) {
    }

    /** Where a resolved value came from, in DescribeConfigs' terms. */
    public enum Source { TOPIC, BROKER, DEFAULT }

    /** A resolved value with its source, plus the lower-priority values it shadows (the synonyms). */
    public record Resolved(Definition definition, String value, Source source, List<Synonym> synonyms) {
    }

    public record Synonym(String name, String value, Source source) {
    }

    private static final Map<String, Definition> DEFINITIONS = new LinkedHashMap<>();

    static {
        define(TopicConfig.CLEANUP_POLICY_CONFIG, Type.LIST, "delete", BrokerConfig.LOG_CLEANUP_POLICY,
            TopicConfig.CLEANUP_POLICY_DOC, ConfigDef.ValidList.in("delete", "compact"));
        define(TopicConfig.COMPRESSION_TYPE_CONFIG, Type.STRING, "producer", null,
            TopicConfig.COMPRESSION_TYPE_DOC + " Weir stores batches as the producer sent them, so only 'producer' is accepted.",
            ConfigDef.ValidString.in("producer"));
        define(TopicConfig.COMPRESSION_GZIP_LEVEL_CONFIG, Type.INT, -1, null, TopicConfig.COMPRESSION_GZIP_LEVEL_DOC,
            ConfigDef.Range.between(-1, 9));
        define(TopicConfig.COMPRESSION_LZ4_LEVEL_CONFIG, Type.INT, 9, null, TopicConfig.COMPRESSION_LZ4_LEVEL_DOC,
            ConfigDef.Range.between(1, 17));
        define(TopicConfig.COMPRESSION_ZSTD_LEVEL_CONFIG, Type.INT, 3, null, TopicConfig.COMPRESSION_ZSTD_LEVEL_DOC,
            ConfigDef.Range.between(-131072, 22));
        define(TopicConfig.DELETE_RETENTION_MS_CONFIG, Type.LONG, 86_400_000L, null, TopicConfig.DELETE_RETENTION_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.FILE_DELETE_DELAY_MS_CONFIG, Type.LONG, 60_000L, null, TopicConfig.FILE_DELETE_DELAY_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.FLUSH_MESSAGES_INTERVAL_CONFIG, Type.LONG, Long.MAX_VALUE, null,
            TopicConfig.FLUSH_MESSAGES_INTERVAL_DOC + " Weir fsyncs before every acknowledgement, whatever this says.",
            ConfigDef.Range.atLeast(1));
        define(TopicConfig.FLUSH_MS_CONFIG, Type.LONG, Long.MAX_VALUE, null,
            TopicConfig.FLUSH_MS_DOC + " Weir fsyncs before every acknowledgement, whatever this says.",
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, Type.INT, 4096, null, TopicConfig.INDEX_INTERVAL_BYTES_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, Type.LONG, Long.MAX_VALUE, null,
            TopicConfig.MAX_COMPACTION_LAG_MS_DOC, ConfigDef.Range.atLeast(1));
        define(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Type.INT, 1048588, BrokerConfig.MESSAGE_MAX_BYTES,
            TopicConfig.MAX_MESSAGE_BYTES_DOC, ConfigDef.Range.atLeast(0));
        define(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, Type.LONG, 3_600_000L,
            BrokerConfig.LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS, TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, Type.LONG, Long.MAX_VALUE,
            BrokerConfig.LOG_MESSAGE_TIMESTAMP_BEFORE_MAX_MS, TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, Type.STRING, "CreateTime", BrokerConfig.LOG_MESSAGE_TIMESTAMP_TYPE,
            TopicConfig.MESSAGE_TIMESTAMP_TYPE_DOC, ConfigDef.ValidString.in("CreateTime", "LogAppendTime"));
        define(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, Type.DOUBLE, 0.5, null,
            TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_DOC, ConfigDef.Range.between(0, 1));
        define(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, Type.LONG, 0L, null, TopicConfig.MIN_COMPACTION_LAG_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Type.INT, 1, null, TopicConfig.MIN_IN_SYNC_REPLICAS_DOC,
            ConfigDef.Range.between(1, 1));
        define(TopicConfig.PREALLOCATE_CONFIG, Type.BOOLEAN, false, null, TopicConfig.PREALLOCATE_DOC, null);
        define(TopicConfig.REMOTE_LOG_STORAGE_ENABLE_CONFIG, Type.BOOLEAN, false, null,
            TopicConfig.REMOTE_LOG_STORAGE_ENABLE_DOC, (name, value) -> {
                if (Boolean.TRUE.equals(value)) {
                    throw new ConfigException(name, value, "tiered storage is not supported: all data is in the object store");
                }
            });
        define(TopicConfig.LOCAL_LOG_RETENTION_MS_CONFIG, Type.LONG, -2L, null, TopicConfig.LOCAL_LOG_RETENTION_MS_DOC,
            ConfigDef.Range.atLeast(-2));
        define(TopicConfig.LOCAL_LOG_RETENTION_BYTES_CONFIG, Type.LONG, -2L, null,
            TopicConfig.LOCAL_LOG_RETENTION_BYTES_DOC, ConfigDef.Range.atLeast(-2));
        define(TopicConfig.RETENTION_BYTES_CONFIG, Type.LONG, -1L, BrokerConfig.LOG_RETENTION_BYTES,
            TopicConfig.RETENTION_BYTES_DOC, null);
        define(TopicConfig.RETENTION_MS_CONFIG, Type.LONG, 604_800_000L, BrokerConfig.LOG_RETENTION_MS,
            TopicConfig.RETENTION_MS_DOC, ConfigDef.Range.atLeast(-1));
        define(TopicConfig.SEGMENT_BYTES_CONFIG, Type.INT, 1_073_741_824, null, TopicConfig.SEGMENT_BYTES_DOC,
            ConfigDef.Range.atLeast(1024 * 1024));
        define(TopicConfig.SEGMENT_INDEX_BYTES_CONFIG, Type.INT, 10_485_760, null, TopicConfig.SEGMENT_INDEX_BYTES_DOC,
            ConfigDef.Range.atLeast(4));
        define(TopicConfig.SEGMENT_JITTER_MS_CONFIG, Type.LONG, 0L, null, TopicConfig.SEGMENT_JITTER_MS_DOC,
            ConfigDef.Range.atLeast(0));
        define(TopicConfig.SEGMENT_MS_CONFIG, Type.LONG, 604_800_000L, null, TopicConfig.SEGMENT_MS_DOC,
            ConfigDef.Range.atLeast(1));
        define(TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, Type.BOOLEAN, false, null,
            TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_DOC, null);
    }

    private static void define(String name, Type type, Object defaultValue, String brokerSynonym, String doc,
                               ConfigDef.Validator validator) {
        DEFINITIONS.put(name, new Definition(name, type, defaultValue, brokerSynonym, doc, validator));
    }

    private final BrokerConfig broker;

    public TopicConfigs(BrokerConfig broker) {
        this.broker = broker;
    }

    public static Set<String> names() {
        return Collections.unmodifiableSet(DEFINITIONS.keySet());
    }

    public static Definition definition(String name) {
        return DEFINITIONS.get(name);
    }

    /** Checks one value; throws InvalidConfigurationException (INVALID_CONFIG) naming the key. */
    public static String validate(String name, String value) {
        Definition definition = DEFINITIONS.get(name);
        if (definition == null) {
            throw new InvalidConfigurationException("Unknown topic config name: " + name);
        }
        if (value == null) {
            throw new InvalidConfigurationException("Null value not supported for topic config " + name);
        }
        try {
            Object parsed = ConfigDef.parseType(name, value.trim(), definition.type());
            if (definition.validator() != null) {
                definition.validator().ensureValid(name, parsed);
            }
        } catch (ConfigException e) {
            throw new InvalidConfigurationException(e.getMessage());
        }
        return value.trim();
    }

    /** Validates every entry of a topic's explicit configs. */
    public static Map<String, String> validateAll(Map<String, String> configs) {
        Map<String, String> valid = new LinkedHashMap<>();
        configs.forEach((name, value) -> valid.put(name, validate(name, value)));
        return valid;
    }

    public Resolved resolve(String name, Map<String, String> topicConfigs) {
        Definition definition = DEFINITIONS.get(name);
        List<Synonym> synonyms = new ArrayList<>();
        String topicValue = topicConfigs.get(name);
        if (topicValue != null) {
            synonyms.add(new Synonym(name, topicValue, Source.TOPIC));
        }
        String brokerName = definition.brokerSynonym();
        if (brokerName != null && broker.isExplicit(brokerName)) {
            synonyms.add(new Synonym(brokerName, brokerValue(brokerName), Source.BROKER));
        }
        String defaultValue = brokerName != null ? brokerValue(brokerName) : ConfigDef.convertToString(
            definition.defaultValue(), definition.type());
        if (brokerName != null && !broker.isExplicit(brokerName)) {
            synonyms.add(new Synonym(brokerName, defaultValue, Source.DEFAULT));
        }
        if (brokerName == null) {
            synonyms.add(new Synonym(name, defaultValue, Source.DEFAULT));
        }
        Synonym winner = synonyms.get(0);
        return new Resolved(definition, winner.value(), winner.source(), synonyms);
    }

    private String brokerValue(String brokerName) {
        if (brokerName.equals(BrokerConfig.LOG_RETENTION_MS)) {
            return Long.toString(broker.defaultRetentionMs());
        }
        return broker.valueAsString(brokerName);
    }

    public String value(String name, Map<String, String> topicConfigs) {
        return resolve(name, topicConfigs).value();
    }

    /** The policy the topic's explicit configs resolve to, with the broker's values and Kafka's defaults. */
    public TopicPolicy policy(Map<String, String> explicit) {
        TopicConfigs configs = this;
        String cleanupPolicy = configs.value(TopicConfig.CLEANUP_POLICY_CONFIG, explicit);
        boolean compacts = cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_COMPACT);
        long segmentBytes = Long.parseLong(configs.value(TopicConfig.SEGMENT_BYTES_CONFIG, explicit));
        TopicLimits limits = new TopicLimits(
            Integer.parseInt(configs.value(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, explicit)),
            TimestampType.forName(configs.value(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MESSAGE_TIMESTAMP_AFTER_MAX_MS_CONFIG, explicit)),
            compacts);
        CompactionSettings compaction = new CompactionSettings(
            Double.parseDouble(configs.value(TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.DELETE_RETENTION_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, explicit)),
            segmentBytes);
        return new TopicPolicy(limits, cleanupPolicy.contains(TopicConfig.CLEANUP_POLICY_DELETE),
            Long.parseLong(configs.value(TopicConfig.RETENTION_MS_CONFIG, explicit)),
            Long.parseLong(configs.value(TopicConfig.RETENTION_BYTES_CONFIG, explicit)), compacts, compaction,
            segmentBytes);
    }
}
