package dev.weir.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A broker in its own JVM ({@code dev.weir.Main server}) on a free loopback port, with its data in a
 * given directory, so a test can kill it with SIGKILL and start it again on the same data. The
 * process's stdout and stderr are appended to one log file (never a pipe, so it can never fill up);
 * {@link #start} waits for the ready line there. Not thread-safe: one test thread drives it.
 */
public final class BrokerProcess implements AutoCloseable {
    public static final String READY_LINE = "Weir is serving Kafka clients on ";
    /** The exit status the JDK reports for a process that died of SIGKILL (128 + 9). */
    public static final int SIGKILL_EXIT = 128 + 9;

    /**
     * The JVM options of a broker started without others: a small heap, and, as {@code ./weir} starts
     * the JVM, an exit when that heap is full.
     */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xms64m", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError");

    private Path dataDir;
    private final Path logFile;
    private final Map<String, String> extraSettings;
    private final List<String> jvmOptions;
    private Process process;
    private int port;
    private long logStart;
    private int starts;

    public BrokerProcess(Path dataDir, Path logFile) {
        this(dataDir, logFile, Map.of());
    }

    /** {@code extraSettings} are broker keys (e.g. {@code wal.object.max.age.ms}), passed as WEIR_ variables. */
    public BrokerProcess(Path dataDir, Path logFile, Map<String, String> extraSettings) {
        this(dataDir, logFile, extraSettings, DEFAULT_JVM_OPTIONS);
    }

    /** {@code jvmOptions} replace {@link #DEFAULT_JVM_OPTIONS} (heap size and the like). */
    public BrokerProcess(Path dataDir, Path logFile, Map<String, String> extraSettings, List<String> jvmOptions) {
        this.dataDir = dataDir;
        this.logFile = logFile;
        this.extraSettings = extraSettings;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** Starts the broker on a free port and returns once it printed its ready line. */
    public void start(Duration timeout) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running as pid " + process.pid());
        }
        IOException lastFailure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                launch(timeout);
                return;
            } catch (PortTakenException e) {
                lastFailure = e;
            }
        }
        throw lastFailure;
    }

    private static final class PortTakenException extends IOException {
        PortTakenException(String message) {
            super(message);
        }
    }

    /** Starts the broker again on the port it had, so connected clients can reconnect to it. */
    public void restartOnSamePort(Duration timeout) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running as pid " + process.pid());
        }
        keepPort = true;
        try {
            launch(timeout);
        } finally {
            keepPort = false;
        }
    }

    /**
     * Starts the broker again on the port it had, but with its data in another directory: as a new machine
     * takes over from a lost one, which a broker of the cluster shape (objects in S3, metadata in
     * PostgreSQL) allows, since it keeps nothing in its data directory that it needs.
     */
    public void restartOnSamePort(Path newDataDir, Duration timeout) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("already running as pid " + process.pid());
        }
        dataDir = newDataDir;
        restartOnSamePort(timeout);
    }

    private boolean keepPort;

    private void launch(Duration timeout) throws IOException, InterruptedException {
        if (!keepPort || port == 0) {
            port = freePort();
        }
        starts++;
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        Files.writeString(logFile, "===== " + Instant.now() + " start #" + starts + " on port " + port
            + ", data in " + dataDir + " =====" + System.lineSeparator(), StandardCharsets.UTF_8,
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        logStart = Files.size(logFile);

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.weir.Main");
        command.add("server");
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().keySet().removeIf(name -> name.startsWith("WEIR_"));
        builder.environment().put("WEIR_LISTENERS", "PLAINTEXT://127.0.0.1:" + port);
        builder.environment().put("WEIR_LOG_DIRS", dataDir.toString());
        extraSettings.forEach((key, value) ->
            builder.environment().put("WEIR_" + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_'), value));
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.redirectInput(ProcessBuilder.Redirect.PIPE);
        process = builder.start();

        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String output = logSinceStart();
            if (output.contains(READY_LINE)) {
                return;
            }
            if (!process.isAlive()) {
                process.waitFor();
                if (output.contains("Address already in use") || output.contains("BindException")) {
                    throw new PortTakenException("port " + port + " was taken: " + output);
                }
                throw new IllegalStateException("The broker exited with status " + process.exitValue()
                    + " before it was ready. Its output:\n" + output);
            }
            Thread.sleep(20);
        }
        String output = logSinceStart();
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException("The broker was not ready within " + timeout + ". Its output:\n" + output);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        }
    }

    /** What the current (or last) process wrote since it was started. */
    public String logSinceStart() throws IOException {
        byte[] all = Files.readAllBytes(logFile);
        int from = (int) Math.min(logStart, all.length);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }

    public Path logFile() {
        return logFile;
    }

    public int port() {
        return port;
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public Properties clientProperties() {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap());
        return properties;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The exit status of the process, once it has ended. */
    public int exitStatus() {
        if (process.isAlive()) {
            throw new IllegalStateException("The broker (pid " + process.pid() + ") is still running");
        }
        return process.exitValue();
    }

    /** Sends SIGKILL ({@link Process#destroyForcibly()} on Linux) and returns the exit status once it is gone. */
    public int kill() throws InterruptedException {
        return terminate(true);
    }

    /** Sends SIGTERM, which runs the broker's shutdown hook, and returns the exit status once it is gone. */
    public int stop() throws InterruptedException {
        return terminate(false);
    }

    private int terminate(boolean forcibly) throws InterruptedException {
        if (forcibly) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("The broker (pid " + process.pid() + ") did not exit");
            }
            throw new IllegalStateException("The broker (pid " + process.pid() + ") ignored SIGTERM for 20 s");
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
