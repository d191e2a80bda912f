package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.LeaveGroupRequestData.MemberIdentity;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;

/** LeaveGroup: one member (v0-2) or a batch of members (v3+, as kafka-consumer-groups removes static members). */
public final class LeaveGroupHandler implements Handler<LeaveGroupRequest> {
    private final GroupHandlers groups;

    public LeaveGroupHandler(GroupHandlers groups) {
        this.groups = groups;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, LeaveGroupRequest request) {
        List<MemberIdentity> members = scope.apiVersion() >= 3 ? request.data().members()
            : List.of(new MemberIdentity().setMemberId(request.data().memberId()));
        return groups.classic().leave(request.data().groupId(), members).thenApply(result ->
            new LeaveGroupResponse(new LeaveGroupResponseData().setErrorCode(result.error().code())
                .setMembers(scope.apiVersion() >= 3 ? result.members() : List.of())));
    }
}
