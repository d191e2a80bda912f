package dev.weir.handler;

import dev.weir.protocol.Handler;
import dev.weir.protocol.RequestScope;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;

/**
 * InitProducerId for idempotent producers: a producer id never handed out before, with epoch 0,
 * allocated durably in the metadata database. (An idempotent Java producer bumps its epoch itself
 * and asks for a new id only when the epoch is exhausted, so a new id is always the right answer.)
 * Transactional ids are refused until transactions are implemented.
 */
public final class InitProducerIdHandler implements Handler<InitProducerIdRequest> {
    private final BrokerContext broker;

    public InitProducerIdHandler(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public CompletableFuture<AbstractResponse> handle(RequestScope scope, InitProducerIdRequest request) {
        if (request.data().transactionalId() != null) {
            return CompletableFuture.completedFuture(new InitProducerIdResponse(new InitProducerIdResponseData()
                .setErrorCode(Errors.INVALID_REQUEST.code()).setProducerId(-1).setProducerEpoch((short) -1)));
        }
        return broker.onIo(() -> new InitProducerIdResponse(new InitProducerIdResponseData()
            .setErrorCode(Errors.NONE.code())
            .setProducerId(broker.metadata().nextProducerId())
            .setProducerEpoch((short) 0)));
    }
}
