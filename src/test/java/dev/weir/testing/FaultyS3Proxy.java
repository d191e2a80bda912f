package dev.weir.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting HTTP proxy between an S3 client and an S3 server, on a free loopback port. It reads
 * the HTTP/1.1 requests of each connection (head and body, by Content-Length or chunked) and, as its
 * mode says at the moment a request arrives:
 * <ul>
 *   <li>{@link #passThrough()}: forwards the request to the server; the server's bytes flow back as they come;</li>
 *   <li>{@link #answerErrors(int)}: answers the request itself with an S3 error of that status (500
 *       InternalError, 503 SlowDown) and closes the connection; the server never sees it;</li>
 *   <li>{@link #delayResponses(Duration)}: forwards the request that much later, so its answer comes late;</li>
 *   <li>{@link #stall()}: swallows the request and answers nothing, ever: the connection stays open and
 *       silent until the client gives up on it, as behind a network partition. A stalled connection stays
 *       stalled when the mode changes; new connections follow the new mode.</li>
 * </ul>
 * Clients send one request at a time on a connection (HTTP/1.1 without pipelining, as the AWS SDK
 * does), so an answer of the proxy never interleaves with one of the server.
 *
 * <p>Each connection runs on two threads of its own: one reads requests, one copies the server's bytes
 * back. Thread-safe: the mode may be switched from any thread.
 */
public final class FaultyS3Proxy implements AutoCloseable {
    private static final int MAX_HEAD_BYTES = 64 * 1024;
    /** How long a connection answered with an error waits for the client to close it. */
    private static final int ERROR_DRAIN_TIMEOUT_MS = 5_000;

    private enum Mode { PASS, ERROR, DELAY, STALL }

    private record Setting(Mode mode, int errorStatus, long delayMs) {
    }

    private final TcpProxy tcp;
    private final URI upstream;
    private volatile Setting setting = new Setting(Mode.PASS, 0, 0);
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong answeredWithError = new AtomicLong();
    private final AtomicLong delayed = new AtomicLong();
    private final AtomicLong stalled = new AtomicLong();
    private final AtomicLong stalledAbandoned = new AtomicLong();

    private FaultyS3Proxy(TcpProxy tcp, URI upstream) {
        this.tcp = tcp;
        this.upstream = upstream;
    }

    /** Starts a proxy that forwards to the S3 server at {@code upstream} (http://host:port). */
    public static FaultyS3Proxy start(URI upstream) throws IOException {
        FaultyS3Proxy proxy = new FaultyS3Proxy(new TcpProxy("faulty-s3-proxy"), upstream);
        proxy.tcp.accept(proxy::serve);
        return proxy;
    }

    /** The endpoint for S3 clients: this proxy. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + tcp.port());
    }

    public void passThrough() {
        setting = new Setting(Mode.PASS, 0, 0);
    }

    /** Every request from now on is answered with an S3 error of {@code status} (500 or 503). */
    public void answerErrors(int status) {
        if (status != 500 && status != 503) {
            throw new IllegalArgumentException("an S3 server error is 500 or 503, not " + status);
        }
        setting = new Setting(Mode.ERROR, status, 0);
    }

    /** Every request from now on reaches the server {@code delay} late. */
    public void delayResponses(Duration delay) {
        setting = new Setting(Mode.DELAY, 0, delay.toMillis());
    }

    /** Every request from now on goes unanswered, and its connection stays silent for good. */
    public void stall() {
        setting = new Setting(Mode.STALL, 0, 0);
    }

    /** Requests forwarded to the server (late or not). */
    public long forwarded() {
        return forwarded.get();
    }

    public long answeredWithError() {
        return answeredWithError.get();
    }

    public long delayed() {
        return delayed.get();
    }

    /** Requests swallowed by a stall. */
    public long stalled() {
        return stalled.get();
    }

    /** Stalled connections that the client closed: it gave up waiting for an answer. */
    public long stalledAbandoned() {
        return stalledAbandoned.get();
    }

    /** Reads the connection's requests one by one and deals with each as the mode says. */
    private void serve(Socket client) {
        Socket server = null;
        try {
            InputStream in = client.getInputStream();
            OutputStream toClient = client.getOutputStream();
            while (!tcp.isClosed()) {
                byte[] head = readHead(in);
                if (head == null) {
                    return;
                }
                String headText = new String(head, StandardCharsets.ISO_8859_1);
                Setting now = setting;
                if (now.mode == Mode.STALL) {
                    stalled.incrementAndGet();
                    try {
                        in.transferTo(OutputStream.nullOutputStream());
                    } finally {
                        // The client closed or reset the connection: either way it gave up (unless the proxy closed).
                        if (!tcp.isClosed()) {
                            stalledAbandoned.incrementAndGet();
                        }
                    }
                    return;
                }
                if (now.mode == Mode.ERROR) {
                    if (!expectsContinue(headText)) {
                        copyBody(headText, in, OutputStream.nullOutputStream());
                    }
                    answerError(toClient, now.errorStatus);
                    // Closed by the client, which was told to: closing first with its bytes unread would reset
                    // the connection, and the client might never read the answer.
                    client.shutdownOutput();
                    client.setSoTimeout(ERROR_DRAIN_TIMEOUT_MS);
                    in.transferTo(OutputStream.nullOutputStream());
                    return;
                }
                if (now.mode == Mode.DELAY) {
                    delayed.incrementAndGet();
                    // The fault itself: the server hears of the request this much later.
                    TimeUnit.MILLISECONDS.sleep(now.delayMs);
                }
                if (server == null) {
                    server = connectUpstream(client);
                }
                OutputStream toServer = server.getOutputStream();
                toServer.write(head);
                toServer.flush();
                copyBody(headText, in, toServer);
                toServer.flush();
                forwarded.incrementAndGet();
            }
        } catch (IOException | InterruptedException e) {
            // The client or the server went away (or the proxy closed): the connection ends.
        } finally {
            if (server != null) {
                tcp.disconnect(server);
            }
        }
    }

    /** Opens the connection to the server and starts copying its bytes back to the client. */
    private Socket connectUpstream(Socket client) throws IOException {
        Socket server = tcp.connect(InetAddress.getByName(upstream.getHost()), upstream.getPort());
        tcp.execute(() -> tcp.pump(server, client, TcpProxy.PASS_ALL));
        return server;
    }

    private void answerError(OutputStream toClient, int status) throws IOException {
        String code = status == 503 ? "SlowDown" : "InternalError";
        String reason = status == 503 ? "Slow Down" : "Internal Server Error";
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code
            + "</Code><Message>Injected by the test's proxy.</Message><RequestId>faulty-s3-proxy</RequestId></Error>")
            .getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/xml\r\nContent-Length: "
            + body.length + "\r\nConnection: close\r\n\r\n";
        toClient.write(head.getBytes(StandardCharsets.ISO_8859_1));
        toClient.write(body);
        toClient.flush();
        answeredWithError.incrementAndGet();
    }

    /** The request line and headers up to the blank line, or null if the client closed between requests. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new IOException("the connection ended inside a request head");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > MAX_HEAD_BYTES) {
                throw new IOException("request head over " + MAX_HEAD_BYTES + " bytes");
            }
        }
        return head.toByteArray();
    }

    private static boolean expectsContinue(String head) {
        return header(head, "expect") != null && header(head, "expect").equalsIgnoreCase("100-continue");
    }

    /** Copies the request's body, as its Content-Length or chunked Transfer-Encoding delimits it. */
    private static void copyBody(String head, InputStream in, OutputStream out) throws IOException {
        String encoding = header(head, "transfer-encoding");
        if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            copyChunked(in, out);
            return;
        }
        String length = header(head, "content-length");
        if (length != null) {
            copyExactly(in, out, Long.parseLong(length));
        }
    }

    private static void copyChunked(InputStream in, OutputStream out) throws IOException {
        while (true) {
            String sizeLine = readLine(in, out);
            int extension = sizeLine.indexOf(';');
            long size = Long.parseLong((extension < 0 ? sizeLine : sizeLine.substring(0, extension)).trim(), 16);
            if (size == 0) {
                while (!readLine(in, out).isEmpty()) {
                    // Trailer fields, copied as they are.
                }
                return;
            }
            copyExactly(in, out, size + 2); // the chunk and its CRLF
        }
    }

    /** Reads and copies one CRLF-ended line; returns it without the CRLF. */
    private static String readLine(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection ended inside a chunked body");
            }
            out.write(b);
            if (previous == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
            previous = b;
        }
    }

    private static void copyExactly(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long left = length;
        while (left > 0) {
            int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (read < 0) {
                throw new IOException("the connection ended " + left + " bytes before the end of a body");
            }
            out.write(buffer, 0, read);
            left -= read;
        }
    }

    /** The value of the first header of that (lower-case) name, or null. */
    private static String header(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** Closes the listener and every connection, stalled ones included. */
    @Override
    public void close() {
        tcp.close();
    }

    @Override
    public String toString() {
        return "FaultyS3Proxy " + endpoint() + " -> " + upstream + " (" + setting.mode + "; forwarded " + forwarded
            + ", errors " + answeredWithError + ", delayed " + delayed + ", stalled " + stalled + ")";
    }
}
