package dev.weir.groups;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;

/**
 * A member of a classic group: its identity, timeouts, the protocols it supports with their
 * metadata, its assignment, and the join or sync request it is waiting on. Confined to the
 * coordinator thread.
 */
final class ClassicMember {
    /** One protocol a member supports, with its metadata (for consumers, the serialised subscription). */
    record Protocol(String name, byte[] metadata) {
    }

    /** A protocol record and its list slot. */
    private static final long PROTOCOL_BYTES = 32;

    final String memberId;
    final String groupInstanceId;
    final String clientId;
    final String clientHost;
    int rebalanceTimeoutMs;
    int sessionTimeoutMs;
    List<Protocol> protocols;
    byte[] assignment = new byte[0];
    CompletableFuture<JoinGroupResponseData> joinFuture;
    CompletableFuture<SyncGroupResponseData> syncFuture;
    ScheduledFuture<?> sessionExpiry;
    /** What this member holds of the coordinator's budget: its {@link #estimatedBytes} when last charged. */
    long heldBytes;

    ClassicMember(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
                  int sessionTimeoutMs, List<Protocol> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocols = protocols;
    }

    /** The heap this member holds: its ids, protocols and assignment, and the objects around them. */
    long estimatedBytes() {
        return estimatedBytes(protocols, assignment);
    }

    /** The heap this member would hold with other protocols or another assignment. */
    long estimatedBytes(List<Protocol> withProtocols, byte[] withAssignment) {
        long bytes = GroupMemory.MEMBER_BYTES + GroupMemory.bytesOf(memberId) + GroupMemory.bytesOf(groupInstanceId)
            + GroupMemory.bytesOf(clientId) + GroupMemory.bytesOf(clientHost) + GroupMemory.bytesOf(withAssignment);
        for (Protocol protocol : withProtocols) {
            bytes += PROTOCOL_BYTES + GroupMemory.bytesOf(protocol.name()) + GroupMemory.bytesOf(protocol.metadata());
        }
        return bytes;
    }

    boolean isAwaitingJoin() {
        return joinFuture != null;
    }

    byte[] metadata(String protocolName) {
        for (Protocol protocol : protocols) {
            if (protocol.name().equals(protocolName)) {
                return protocol.metadata();
            }
        }
        return new byte[0];
    }

    boolean supports(String protocolName) {
        return protocols.stream().anyMatch(protocol -> protocol.name().equals(protocolName));
    }

    boolean sameProtocols(List<Protocol> other) {
        if (other.size() != protocols.size()) {
            return false;
        }
        for (int i = 0; i < other.size(); i++) {
            if (!other.get(i).name().equals(protocols.get(i).name())
                || !java.util.Arrays.equals(other.get(i).metadata(), protocols.get(i).metadata())) {
                return false;
            }
        }
        return true;
    }
}
