package dev.weir.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command-line tool's main class in a separate JVM with this JVM's class path, feeding it optional
 * standard input and capturing its exit code, standard output and standard error.
 */
public final class ToolRunner {
    /** Main classes of Kafka's command-line tools, as the kafka-*.sh scripts start them. */
    public static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
    public static final String CONSOLE_PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    public static final String CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    public static final String CONSUMER_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    /** kafka-configs.sh still runs the Scala command of the core jar. */
    public static final String CONFIG_COMMAND = "kafka.admin.ConfigCommand";

    private final Path workDir;
    private final Duration timeout;
    private final List<String> jvmOptions;
    private int runs;

    /**
     * @param workDir where captured output files are kept
     * @param timeout how long one invocation may take before it is killed
     * @param jvmOptions extra options for the child JVM, such as system properties
     */
    public ToolRunner(Path workDir, Duration timeout, List<String> jvmOptions) {
        this.workDir = workDir;
        this.timeout = timeout;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** The outcome of one invocation. */
    public record Result(String command, int exitCode, String stdout, String stderr) {
        /** Everything worth showing in an assertion message. */
        public String describe() {
            return "command: " + command + "\nexit code: " + exitCode
                + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    public Result run(String mainClass, String... args) throws IOException, InterruptedException {
        return runWithInput(mainClass, null, args);
    }

    /** Runs the tool; {@code stdin}, if not null, is written to its standard input which is then closed. */
    public synchronized Result runWithInput(String mainClass, String stdin, String... args)
        throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        String shown = mainClass + " " + String.join(" ", args);

        int run = ++runs;
        Path out = workDir.resolve("tool-" + run + ".out");
        Path err = workDir.resolve("tool-" + run + ".err");
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
        if (stdin == null) {
            builder.redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        }
        Process process = builder.start();
        if (stdin != null) {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("timed out after " + timeout + "\n"
                + new Result(shown, -1, read(out), read(err)).describe());
        }
        Result result = new Result(shown, process.exitValue(), read(out), read(err));
        // Kept in the test's output log (surefire's *-output.txt) next to the broker's own log lines.
        System.out.println("=== tool run " + run + " ===\n" + result.describe());
        return result;
    }

    private static java.io.File nullDevice() {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
