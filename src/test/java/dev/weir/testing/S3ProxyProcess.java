package dev.weir.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * S3Proxy, a real S3 server, in a process of its own on a free loopback port, keeping its objects in a
 * directory; started from the self-contained jar the build copies to {@code target/s3proxy}. It checks
 * request signatures, so clients must sign as they would against AWS. Not thread-safe.
 */
public final class S3ProxyProcess implements AutoCloseable {
    public static final String ACCESS_KEY = "weir-test";
    public static final String SECRET_KEY = "weir-test-secret";
    private static final Path JAR = Path.of("target", "s3proxy", "s3proxy-jar-with-dependencies.jar");

    private final Process process;
    private final int port;

    private S3ProxyProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts S3Proxy with its objects under {@code dir} and waits until it accepts connections. */
    public static S3ProxyProcess start(Path dir) throws IOException, InterruptedException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: the build copies it there (generate-test-resources)");
        }
        int port = freePort();
        Path data = Files.createDirectories(dir.resolve("objects"));
        Path properties = dir.resolve("s3proxy.properties");
        Files.write(properties, List.of("s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4", "s3proxy.identity=" + ACCESS_KEY, "s3proxy.credential=" + SECRET_KEY,
            "jclouds.provider=filesystem-nio2", "jclouds.filesystem.basedir=" + data));
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m", "-jar", JAR.toString(), "--properties", properties.toString())
            .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
        S3ProxyProcess proxy = new S3ProxyProcess(process, port);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!proxy.accepts()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                proxy.close();
                throw new IllegalStateException("S3Proxy did not start: " + Files.readString(dir.resolve("s3proxy.log")));
            }
            Thread.sleep(50);
        }
        return proxy;
    }

    private boolean accepts() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /**
     * A client of this server, signing with the test credentials, with path-style bucket addressing, that
     * shows each request to the interceptors.
     */
    public S3Client client(ExecutionInterceptor... interceptors) {
        return S3Client.builder().endpointOverride(endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
            .overrideConfiguration(configuration -> configuration.executionInterceptors(List.of(interceptors)))
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
            // Checksums only where S3 requires them, as S3-compatible servers other than AWS expect.
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
