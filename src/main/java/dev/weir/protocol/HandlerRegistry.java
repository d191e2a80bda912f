package dev.weir.protocol;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;

/**
 * The one table of implemented APIs, keyed by {@link ApiKeys}. ApiVersions advertises exactly these,
 * each from its oldest to its latest stable version in the kafka-clients release Weir is built on
 * (Produce from 0, as Kafka does, because librdkafka stops compressing when the minimum is above 0).
 */
public final class HandlerRegistry {
    private final Map<ApiKeys, Handler<? extends AbstractRequest>> handlers = new EnumMap<>(ApiKeys.class);

    public <R extends AbstractRequest> HandlerRegistry register(ApiKeys api, Handler<R> handler) {
        if (handlers.putIfAbsent(api, handler) != null) {
            throw new IllegalStateException("two handlers for " + api);
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    <R extends AbstractRequest> Handler<R> handler(ApiKeys api) {
        return (Handler<R>) handlers.get(api);
    }

    public Map<ApiKeys, Handler<? extends AbstractRequest>> all() {
        return Collections.unmodifiableMap(handlers);
    }

    public static short minAdvertisedVersion(ApiKeys api) {
        return api == ApiKeys.PRODUCE ? ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION : api.oldestVersion();
    }

    public boolean isSupported(ApiKeys api, short version) {
        return handlers.containsKey(api) && version >= api.oldestVersion() && version <= api.latestVersion();
    }

    public ApiVersionCollection advertisedVersions() {
        ApiVersionCollection versions = new ApiVersionCollection();
        for (ApiKeys api : handlers.keySet()) {
            versions.add(new ApiVersion().setApiKey(api.id).setMinVersion(minAdvertisedVersion(api))
                .setMaxVersion(api.latestVersion()));
        }
        return versions;
    }
}
