package dev.weir.server;

import java.util.EnumSet;
import java.util.Set;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The Kafka APIs a broker answers, read from the same table it is built from, for tests that put
 * stand-in handlers in the real handlers' places. The handlers are made without a broker behind
 * them (their constructors only keep what they are given) and never called.
 */
public final class ImplementedApis {
    private ImplementedApis() {
    }

    public static Set<ApiKeys> all() {
        Set<ApiKeys> apis = EnumSet.noneOf(ApiKeys.class);
        apis.addAll(Handlers.registry(null, null).all().keySet());
        // Broker registers these three itself, next to the table.
        apis.addAll(Set.of(ApiKeys.CONSUMER_GROUP_HEARTBEAT, ApiKeys.CONSUMER_GROUP_DESCRIBE, ApiKeys.API_VERSIONS));
        return apis;
    }
}
