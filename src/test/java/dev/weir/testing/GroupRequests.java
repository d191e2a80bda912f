package dev.weir.testing;

import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocolCollection;
import org.apache.kafka.common.requests.JoinGroupRequest;

/** Hand-made group requests, for tests that send what no client library would send on its own. */
public final class GroupRequests {
    private GroupRequests() {
    }

    /**
     * A JoinGroup of a new member (empty member id) of a consumer group, with one protocol whose
     * metadata is {@code metadata}. Before v4 the member joins at once, with no second round trip.
     */
    public static JoinGroupRequest newMember(String groupId, byte[] metadata, int sessionTimeoutMs, short version) {
        JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestProtocolCollection();
        protocols.add(new JoinGroupRequestProtocol().setName("range").setMetadata(metadata));
        return new JoinGroupRequest(new JoinGroupRequestData().setGroupId(groupId).setMemberId("")
            .setProtocolType("consumer").setSessionTimeoutMs(sessionTimeoutMs).setRebalanceTimeoutMs(sessionTimeoutMs)
            .setProtocols(protocols), version);
    }
}
