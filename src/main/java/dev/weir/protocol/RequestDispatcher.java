package dev.weir.protocol;

import dev.weir.net.CloseConnectionException;
import dev.weir.net.FrameProcessor;
import dev.weir.runtime.FatalErrors;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.network.ClientInformation;
import org.apache.kafka.common.network.ListenerName;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestAndSize;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses a frame with kafka-clients (header, then body), finds the API's handler and serialises its
 * response with the header the request's version calls for. This is the one place where failures
 * become Kafka errors: a handler's exception becomes the API's error response with
 * {@code Errors.forException}; bytes that are not a request we implement close the connection.
 * An ApiVersions request of a version we do not know is answered in v0 form, so clients fall back.
 */
public final class RequestDispatcher implements FrameProcessor {
    private static final Logger LOG = LoggerFactory.getLogger(RequestDispatcher.class);

    private final HandlerRegistry registry;
    private final ListenerName listenerName;
    private final Clock clock;
    private final java.util.function.Function<Throwable, RuntimeException> errorTranslator;

    /** {@code errorTranslator} turns a handler's internal failure into the kafka-clients exception to answer. */
    public RequestDispatcher(HandlerRegistry registry, String listenerName, Clock clock,
                             java.util.function.Function<Throwable, RuntimeException> errorTranslator) {
        this.registry = registry;
        this.listenerName = new ListenerName(listenerName);
        this.clock = clock;
        this.errorTranslator = errorTranslator;
    }

    @Override
    public CompletableFuture<Response> process(ByteBuffer frame, Connection connection) {
        RequestHeader header = parseHeader(frame);
        RequestContext context = new RequestContext(header, connection.id(), connection.remote().getAddress(),
            java.util.Optional.of(connection.remote().getPort()), KafkaPrincipal.ANONYMOUS, listenerName,
            SecurityProtocol.PLAINTEXT, ClientInformation.EMPTY, false);
        ApiKeys api = header.apiKey();
        boolean apiVersionsFallback = api == ApiKeys.API_VERSIONS && !header.isApiVersionSupported();
        if (!apiVersionsFallback && !header.isApiVersionSupported()) {
            throw new CloseConnectionException("Unsupported version " + header.apiVersion() + " of " + api
                + " from client " + header.clientId());
        }
        AbstractRequest request;
        try {
            RequestAndSize parsed = context.parseRequest(frame);
            request = parsed.request;
        } catch (RuntimeException e) {
            throw new CloseConnectionException("Malformed " + api + " v" + header.apiVersion() + " request from client "
                + header.clientId() + ": " + e.getMessage(), e);
        }
        if (!registry.isSupported(api, request.version()) && !apiVersionsFallback) {
            AbstractResponse unsupported = errorAnswer(api, request, new UnsupportedVersionException(
                "The broker does not implement " + api + "."));
            return CompletableFuture.completedFuture(new Response(BufferCollector.collect(context.buildResponseSend(unsupported)), () -> { }));
        }
        Handler<AbstractRequest> handler = registry.handler(api);
        CompletableFuture<AbstractResponse> response;
        RequestScope scope = new RequestScope(context, clock.millis(), connection.responseMemory());
        try {
            response = handler.handle(scope, request);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response.handle((body, error) -> {
            try {
                return respond(api, request, context, scope, body, error);
            } catch (RuntimeException e) {
                scope.releaseAll();
                throw e;
            }
        });
    }

    private Response respond(ApiKeys api, AbstractRequest request, RequestContext context, RequestScope scope,
                             AbstractResponse body, Throwable error) {
        if (error != null) {
            // An error of the JVM is not the request's fault and has no Kafka error code: the broker stops.
            FatalErrors.haltIfFatal(error);
        }
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof CloseConnectionSignal signal) {
            throw new CloseConnectionException(signal.getMessage());
        }
        AbstractResponse answer = error != null ? errorResponse(api, request, error) : body;
        if (answer == null) {
            scope.releaseAll();
            return null;
        }
        try {
            return new Response(BufferCollector.collect(context.buildResponseSend(answer)), scope::releaseAll);
        } catch (BufferCollector.ResponseTooLargeException e) {
            throw new CloseConnectionException("Cannot answer " + api + " v" + request.version() + ": " + e.getMessage());
        }
    }

    /**
     * The API's error response for a request, which kafka-clients cannot build for every request it parses
     * (a null array where the error response copies it, say): such a request closes the connection.
     */
    private static AbstractResponse errorAnswer(ApiKeys api, AbstractRequest request, Throwable cause) {
        try {
            return request.getErrorResponse(0, cause);
        } catch (RuntimeException e) {
            throw new CloseConnectionException("Cannot build an error answer to " + api + " v" + request.version()
                + " (" + cause.getMessage() + "): " + e, e);
        }
    }

    private static RequestHeader parseHeader(ByteBuffer frame) {
        if (frame.remaining() < 8) {
            throw new CloseConnectionException("Frame of " + frame.remaining() + " bytes is too short for a request header");
        }
        short apiKey = frame.getShort(frame.position());
        if (!ApiKeys.hasId(apiKey)) {
            throw new CloseConnectionException("Unknown API key " + apiKey);
        }
        try {
            return RequestHeader.parse(frame);
        } catch (RuntimeException e) {
            throw new CloseConnectionException("Malformed request header: " + e.getMessage(), e);
        }
    }

    private AbstractResponse errorResponse(ApiKeys api, AbstractRequest request, Throwable error) {
        Throwable cause = errorTranslator.apply(
            error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
        Errors mapped = Errors.forException(cause);
        if (mapped == Errors.UNKNOWN_SERVER_ERROR) {
            LOG.error("Unexpected error handling {} v{}", api, request.version(), cause);
        }
        return errorAnswer(api, request, cause);
    }
}
