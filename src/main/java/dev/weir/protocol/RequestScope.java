package dev.weir.protocol;

import org.apache.kafka.common.requests.RequestContext;

/** What a handler knows of a request besides its body: Kafka's request context and the arrival time. */
public record RequestScope(RequestContext context, long receivedMs) {
    public short apiVersion() {
        return context.apiVersion();
    }
}
