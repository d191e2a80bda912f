package dev.weir.groups;

import static dev.weir.groups.ConsumerGroupMember.LEAVE_EPOCH;
import static dev.weir.groups.ConsumerGroupMember.STATIC_LEAVE_EPOCH;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.Errors;

/** What a ConsumerGroupHeartbeat must be, whatever the group; stateless. */
final class ConsumerHeartbeatChecks {
    private ConsumerHeartbeatChecks() {
    }

    /** The checks Kafka makes before a heartbeat reaches the group (GroupCoordinatorService). */
    static void validate(ConsumerGroupHeartbeatRequestData request) {
        int epoch = request.memberEpoch();
        if ((epoch > 0 || epoch == LEAVE_EPOCH) && request.memberId().isBlank()) {
            throw Errors.INVALID_REQUEST.exception("MemberId can't be empty.");
        }
        if (request.groupId() == null || request.groupId().isBlank()) {
            throw Errors.INVALID_REQUEST.exception("GroupId can't be empty.");
        }
        if (request.instanceId() != null && request.instanceId().isBlank()) {
            throw Errors.INVALID_REQUEST.exception("InstanceId can't be empty.");
        }
        if (request.rackId() != null && request.rackId().isBlank()) {
            throw Errors.INVALID_REQUEST.exception("RackId can't be empty.");
        }
        if (epoch == 0) {
            if (request.rebalanceTimeoutMs() == -1) {
                throw Errors.INVALID_REQUEST.exception("RebalanceTimeoutMs must be provided in first request.");
            }
            if (request.topicPartitions() == null || !request.topicPartitions().isEmpty()) {
                throw Errors.INVALID_REQUEST.exception("TopicPartitions must be empty when (re-)joining.");
            }
            if (request.subscribedTopicNames() == null && request.subscribedTopicRegex() == null) {
                throw Errors.INVALID_REQUEST.exception(
                    "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
            }
        } else if (epoch == STATIC_LEAVE_EPOCH && request.instanceId() == null) {
            throw Errors.INVALID_REQUEST.exception("InstanceId can't be null.");
        } else if (epoch < STATIC_LEAVE_EPOCH) {
            throw Errors.INVALID_REQUEST.exception("MemberEpoch is invalid.");
        }
        if (request.serverAssignor() != null && ServerAssignor.named(request.serverAssignor()) == null) {
            throw Errors.UNSUPPORTED_ASSIGNOR.exception("ServerAssignor " + request.serverAssignor()
                + " is not supported. Supported assignors: " + String.join(", ", ServerAssignor.names()) + ".");
        }
        String regex = request.subscribedTopicRegex();
        if (regex != null && !regex.isEmpty()) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw Errors.INVALID_REGULAR_EXPRESSION.exception("SubscribedTopicRegex `" + regex
                    + "` is not a valid regular expression: " + e.getDescription() + ".");
            }
        }
    }
}
