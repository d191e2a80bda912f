package dev.weir.net;

import io.netty.channel.Channel;

/**
 * Decides whether a connection reads its socket: not while it has too many requests in progress,
 * not while its outbound buffer is full, and not while it waits for request memory. Confined to the
 * channel's event loop.
 */
final class ReadGate {
    private boolean tooManyInFlight;
    private boolean waitingForMemory;

    void tooManyInFlight(Channel channel, boolean value) {
        tooManyInFlight = value;
        apply(channel);
    }

    void waitingForMemory(Channel channel, boolean value) {
        waitingForMemory = value;
        apply(channel);
    }

    /**
     * Whether the broker stopped reading the connection for its own reasons (requests in progress,
     * responses the peer has not read), rather than waiting for the peer or for request memory.
     */
    boolean pausedByBroker(Channel channel) {
        return tooManyInFlight || !channel.isWritable();
    }

    void apply(Channel channel) {
        boolean read = !tooManyInFlight && !waitingForMemory && channel.isWritable();
        if (channel.config().isAutoRead() != read) {
            channel.config().setAutoRead(read);
        }
    }
}
