package dev.weir.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.weir.handler.ApiVersionsHandler;
import dev.weir.handler.ErrorTranslator;
import dev.weir.net.CloseConnectionException;
import dev.weir.net.FrameProcessor;
import dev.weir.net.MemoryBudget;
import dev.weir.net.ResponsePart;
import dev.weir.server.ImplementedApis;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.Timeout;

/**
 * Any bytes as a request frame, through the real dispatcher: they parse into a request (of an API
 * the broker implements, or not: that has its own answer), or the connection is closed with a
 * {@link CloseConnectionException}; no other exception escapes, nothing hangs, and a request
 * allocates no more than a multiple of its frame's size. The handlers are stand-ins that fail the
 * request at once, so every parsed request also goes down the path a failing handler takes (the
 * API's error response, serialised for the request's version), and the answer must be a frame whose
 * size prefix is right and that kafka-clients reads back as the response to that request.
 *
 * <p>Input: the frame's bytes after its size prefix. Seeds: requests the Java producer, consumer and
 * admin client sent to a broker, and the same requests written in older versions.
 */
public class RequestParsingFuzzTest {
    /** What a request may allocate whatever its size: its response, the parser's bookkeeping. */
    private static final long ALLOCATED_BYTES_BASE = 4L << 20;
    /** Parsing makes objects for what it reads: at most some tens of bytes for a byte of input. */
    private static final long ALLOCATED_BYTES_PER_FRAME_BYTE = 256;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final FrameProcessor.Connection CONNECTION = new FrameProcessor.Connection("fuzz",
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 9092), new MemoryBudget(Long.MAX_VALUE));
    /** Stands in for every handler: fails, so the dispatcher answers with the API's error response. */
    private static final Handler<AbstractRequest> FAILING =
        (scope, request) -> CompletableFuture.failedFuture(new InvalidRequestException("stand-in handler"));
    private static final RequestDispatcher DISPATCHER = dispatcher();

    private static RequestDispatcher dispatcher() {
        HandlerRegistry registry = new HandlerRegistry();
        for (ApiKeys api : ImplementedApis.all()) {
            if (api != ApiKeys.API_VERSIONS) {
                registry.register(api, FAILING);
            }
        }
        // ApiVersions needs nothing but the registry, so the real handler answers it.
        registry.register(ApiKeys.API_VERSIONS, new ApiVersionsHandler(registry));
        return new RequestDispatcher(registry, "PLAINTEXT", Clock.fixed(Instant.EPOCH, ZoneOffset.UTC),
            ErrorTranslator::toApiException);
    }

    @FuzzTest
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void requests(byte[] frame) {
        long limit = ALLOCATED_BYTES_BASE + ALLOCATED_BYTES_PER_FRAME_BYTE * frame.length;
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
        FrameProcessor.Response response = process(frame);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
        if (response != null) {
            try {
                checkResponse(frame, response);
            } finally {
                response.afterWrite().run();
            }
        }
        // Loading (and, while fuzzing, instrumenting) a class the frame reaches for the first time allocates on
        // this thread too; only a frame that allocates too much twice is a finding.
        if (allocated > limit && allocatedByProcessing(frame) > limit) {
            throw new AssertionError("a request frame of " + frame.length + " bytes allocated more than " + limit
                + " bytes, twice");
        }
    }

    private static long allocatedByProcessing(byte[] frame) {
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
        FrameProcessor.Response response = process(frame);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
        if (response != null) {
            response.afterWrite().run();
        }
        return allocated;
    }

    /** The dispatcher's answer; null when it closes the connection (or, for acks=0, sends nothing). */
    private static FrameProcessor.Response process(byte[] frame) {
        CompletableFuture<FrameProcessor.Response> answer;
        try {
            answer = DISPATCHER.process(ByteBuffer.wrap(frame), CONNECTION);
        } catch (CloseConnectionException e) {
            return null;
        }
        if (!answer.isDone()) {
            throw new AssertionError("the handlers answer at once, but the dispatcher's answer is not done");
        }
        try {
            return answer.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof CloseConnectionException) {
                return null;
            }
            throw e;
        }
    }

    /** The answer is one frame, its size prefix right, that kafka-clients reads as the response to the request. */
    private static void checkResponse(byte[] frame, FrameProcessor.Response response) {
        ByteBuffer bytes = concatenate(response);
        if (bytes.remaining() < 8 || bytes.getInt(0) != bytes.remaining() - 4) {
            throw new AssertionError("a response of " + bytes.remaining() + " bytes has the size prefix " + bytes.getInt(0));
        }
        RequestHeader request = RequestHeader.parse(ByteBuffer.wrap(frame));
        ByteBuffer body = bytes.position(4).slice();
        if (request.isApiVersionSupported()) {
            AbstractResponse.parseResponse(body, request);
            return;
        }
        // The answer to an ApiVersions request of a version the broker does not know is in v0 form.
        ResponseHeader header = ResponseHeader.parse(body, (short) 0);
        if (header.correlationId() != request.correlationId()) {
            throw new AssertionError("correlation id " + header.correlationId() + " answers " + request.correlationId());
        }
        AbstractResponse.parseResponse(ApiKeys.API_VERSIONS, new ByteBufferAccessor(body), (short) 0);
    }

    private static ByteBuffer concatenate(FrameProcessor.Response response) {
        long size = response.parts().stream().mapToLong(ResponsePart::size).sum();
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(size));
        for (ResponsePart part : response.parts()) {
            bytes.put(((ResponsePart.Bytes) part).buffer().duplicate());
        }
        return bytes.flip();
    }
}
