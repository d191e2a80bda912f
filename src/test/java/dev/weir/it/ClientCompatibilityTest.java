package dev.weir.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.weir.it.clients.JavaClientMain;
import dev.weir.testing.TestBroker;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same consumer-group scenario with six different clients: the Java client of this build (4.x) in this JVM,
 * the Java clients 3.9.x and 4.4.x (the newest 4.x) in child JVMs, kcat, confluent-kafka-python (librdkafka), kafka-python and kafkajs.
 *
 * <p>Each test makes its own 3-partition topic and groups, then with its client: produces 300 keyed messages
 * (keys k0..k9, values "key-sequence") with acks=all; reads them in a group (subscribe) and commits; produces 30
 * more; reads again with a new consumer of the same group, which must get exactly the 30 new ones; and reads all
 * 330 from the earliest offset in a second group. Every read must hold each message once and each key's values
 * in order. The external clients are scripts in {@code src/test/resources/clients/} (the Java 3.9 client is
 * {@link JavaClientMain}); they print what they read as "key TAB value TAB partition TAB offset" lines. A client
 * that is missing fails its test (never skips it): .ci/run installs them all.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClientCompatibilityTest {
    private static final int PARTITIONS = 3;
    private static final int KEYS = 10;
    private static final int FIRST_BATCH = 300;
    private static final int SECOND_BATCH = 30;
    /** How long a client's consume run may read before it gives up (it returns what it read). */
    private static final int CONSUME_SECONDS = 30;
    /** How long one client process may run before it is killed. */
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(45);
    private static final String KAFKAJS_VERSION = "2.2.4";

    @TempDir
    static Path dataDir;
    @TempDir
    static Path outputDir;
    static TestBroker broker;
    static Admin admin;
    private static final AtomicInteger runs = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        broker = new TestBroker(dataDir);
        admin = Admin.create(broker.clientProperties());
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** One client under test: produces messages FIRST..FIRST+COUNT-1 and reads in a group. */
    private interface Client {
        void produce(String topic, int first, int count) throws Exception;

        /** Reads in {@code group} until {@code expected} records came (or its timeout), commits and closes. */
        Read consume(String topic, String group, int expected) throws Exception;
    }

    /** What one consume run read, and the client's own messages (its standard error) to show when it is wrong. */
    private record Read(List<Rec> records, String clientLog) {
    }

    /** One consumed record as the client printed it. */
    private record Rec(String key, String value, int partition, long offset) {
        @Override
        public String toString() {
            return key + "=" + value + "@" + partition + ":" + offset;
        }
    }

    // ------------------------------------------------------------------------------------------------ the tests

    @Test
    void javaClientOfThisBuild() throws Exception {
        assertThat(AppInfoParser.getVersion()).startsWith("4.");
        scenario("java4", new Client() {
            @Override
            public void produce(String topic, int first, int count) throws Exception {
                JavaClientMain.produce(broker.bootstrap(), topic, first, count);
            }

            @Override
            public Read consume(String topic, String group, int expected) {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
                    JavaClientMain.consume(broker.bootstrap(), topic, group, expected,
                        Duration.ofSeconds(CONSUME_SECONDS), out);
                }
                return new Read(parse(buffer.toString(StandardCharsets.UTF_8), "java " + AppInfoParser.getVersion()),
                    "(in this JVM; see the test's output log)");
            }
        });
    }

    @Test
    void javaClient39InAChildJvm() throws Exception {
        childJvmClient("clients-3.9", "3.9", "copy-kafka-clients-3.9", "java39");
    }

    @Test
    void javaClient44InAChildJvm() throws Exception {
        childJvmClient("clients-4.4", "4.4", "copy-kafka-clients-4.4", "java44");
    }

    /** Runs the scenario with kafka-clients {@code version}.x from {@code directory} of target/ in a child JVM. */
    private void childJvmClient(String directory, String version, String execution, String name) throws Exception {
        Path jars = targetDir().resolve(directory);
        List<Path> clientJars;
        try (Stream<Path> files = Files.exists(jars) ? Files.list(jars) : Stream.empty()) {
            clientJars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
        if (clientJars.stream().noneMatch(p -> p.getFileName().toString().startsWith("kafka-clients-" + version + "."))) {
            fail("kafka-clients " + version + ".x is not in " + jars + " (found " + clientJars + "); the"
                + " maven-dependency-plugin execution " + execution + " of pom.xml copies it there in"
                + " generate-test-resources: run the test through Maven (./mvnw test or .ci/run)");
        }
        String classPath = targetDir().resolve("test-classes") + File.pathSeparator
            + clientJars.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
        List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", classPath, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", JavaClientMain.class.getName());
        ProcessClient client = new ProcessClient("java " + version, java, Map.of());
        ProcessResult printed = client.run(); // without arguments it prints its version and its usage
        assertThat(printed.stderr()).as(printed.describe())
            .containsPattern("client version: " + version.replace(".", "\\.") + "\\.\\d");
        scenario(name, client);
    }

    /**
     * kcat's flow differs a little (see kcat-client.sh): its balanced consumer reads to the end of every assigned
     * partition (-e) instead of up to a count, and its commit is librdkafka's auto-commit, which commits the
     * offsets of the messages handed to kcat when it closes the consumer. The checks are the same.
     */
    @Test
    void kcat() throws Exception {
        requireTool("kcat", "apt-get install kcat", "kcat", "-V");
        scenario("kcat", new ProcessClient("kcat", List.of("bash", script("kcat-client.sh")), Map.of()));
    }

    @Test
    void confluentKafkaPython() throws Exception {
        requireTool("confluent-kafka-python (the confluent_kafka module of " + python() + ")",
            "apt-get install python3-confluent-kafka", python(), "-c", "import confluent_kafka");
        scenario("confluent", new ProcessClient("confluent-kafka-python",
            List.of(python(), script("confluent_kafka_client.py")), Map.of()));
    }

    /** kafka-python detects the broker's version itself (no api_version given). */
    @Test
    void kafkaPython() throws Exception {
        requireTool("kafka-python (the kafka module of " + python() + ")", "apt-get install python3-kafka",
            python(), "-c", "import kafka");
        scenario("kafkapython", new ProcessClient("kafka-python",
            List.of(python(), script("kafka_python_client.py")), Map.of()));
    }

    @Test
    void kafkajs() throws Exception {
        Path modules = kafkajsModules();
        scenario("kafkajs", new ProcessClient("kafkajs", List.of("node", script("kafkajs_client.js")),
            Map.of("NODE_PATH", modules.toString(), "KAFKAJS_NO_PARTITIONER_WARNING", "1")));
    }

    // ------------------------------------------------------------------------------------------- the scenario

    private static void scenario(String id, Client client) throws Exception {
        String topic = "compat-" + id;
        String group = id + "-group";
        String replayGroup = id + "-replay";
        admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();

        client.produce(topic, 0, FIRST_BATCH);
        assertThat(endOffsets(topic).values().stream().mapToLong(Long::longValue).sum())
            .as("messages in %s after producing %d", topic, FIRST_BATCH).isEqualTo(FIRST_BATCH);

        Read first = client.consume(topic, group, FIRST_BATCH);
        checkRead(first, 0, FIRST_BATCH / KEYS, "first read of " + group);
        checkCommitted(topic, group, "after the first read");

        client.produce(topic, FIRST_BATCH, SECOND_BATCH);
        assertThat(endOffsets(topic).values().stream().mapToLong(Long::longValue).sum())
            .as("messages in %s after producing %d more", topic, SECOND_BATCH).isEqualTo(FIRST_BATCH + SECOND_BATCH);

        Read second = client.consume(topic, group, SECOND_BATCH);
        checkRead(second, FIRST_BATCH / KEYS, (FIRST_BATCH + SECOND_BATCH) / KEYS,
            "read of " + group + " by a new consumer after its commit (only the new messages)");
        checkCommitted(topic, group, "after the second read");

        Read all = client.consume(topic, replayGroup, FIRST_BATCH + SECOND_BATCH);
        checkRead(all, 0, (FIRST_BATCH + SECOND_BATCH) / KEYS, "read of the new group " + replayGroup);
        checkCommitted(topic, replayGroup, "after the read of the new group");
    }

    /**
     * The records must be, for each key k0..k9, exactly the values key-from..key-(to-1) in this order, each key
     * from one partition, each (partition, offset) once and offsets rising within a partition.
     */
    private static void checkRead(Read read, int from, int to, String what) {
        List<Rec> records = read.records();
        String shown = what + ": " + records.size() + " records " + records + "\n--- client's standard error ---\n"
            + read.clientLog();
        assertThat(records).as(shown).hasSize(KEYS * (to - from));
        Map<String, List<Rec>> byKey = new TreeMap<>();
        Map<Integer, Long> lastOffset = new HashMap<>();
        for (Rec record : records) {
            byKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(record);
            Long previous = lastOffset.put(record.partition(), record.offset());
            if (previous != null) {
                assertThat(record.offset()).as("offset after %d in partition %d; %s", previous, record.partition(),
                    shown).isGreaterThan(previous);
            }
        }
        assertThat(byKey.keySet()).as(shown)
            .containsExactlyElementsOf(IntStream.range(0, KEYS).mapToObj(i -> "k" + i).sorted().toList());
        for (Map.Entry<String, List<Rec>> entry : byKey.entrySet()) {
            String key = entry.getKey();
            List<String> values = entry.getValue().stream().map(Rec::value).toList();
            assertThat(values).as("values of %s in the %s", key, shown)
                .containsExactlyElementsOf(IntStream.range(from, to).mapToObj(seq -> key + "-" + seq).toList());
            Set<Integer> partitions = entry.getValue().stream().map(Rec::partition).collect(Collectors.toSet());
            assertThat(partitions).as("partitions of %s in the %s", key, shown).hasSize(1);
        }
    }

    /** The group's committed offset of every partition holding messages is the partition's end offset. */
    private static void checkCommitted(String topic, String group, String when) throws Exception {
        Map<TopicPartition, Long> ends = endOffsets(topic);
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
            .partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, Long> committedOffsets = new TreeMap<>(
            (a, b) -> Integer.compare(a.partition(), b.partition()));
        committed.forEach((tp, offset) -> {
            if (offset != null) {
                committedOffsets.put(tp, offset.offset());
            }
        });
        Map<TopicPartition, Long> expected = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        ends.forEach((tp, end) -> {
            if (end > 0 || committedOffsets.containsKey(tp)) {
                expected.put(tp, end);
            }
        });
        assertThat(committedOffsets).as("offsets committed by %s %s (end offsets %s)", group, when, ends)
            .isEqualTo(expected);
    }

    private static Map<TopicPartition, Long> endOffsets(String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, Long> ends = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        admin.listOffsets(request).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    private static List<Rec> parse(String stdout, String client) {
        List<Rec> records = new ArrayList<>();
        for (String line : stdout.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.split("\t", -1);
            if (fields.length != 4) {
                fail(client + " printed a line that is not key TAB value TAB partition TAB offset: '" + line
                    + "'\n--- its output ---\n" + stdout);
            }
            records.add(new Rec(fields[0], fields[1], Integer.parseInt(fields[2].trim()),
                Long.parseLong(fields[3].trim())));
        }
        return records;
    }

    // ------------------------------------------------------------------------------------------ external clients

    /** A client run as a command: COMMAND... BOOTSTRAP TOPIC GROUP MODE A B. */
    private static final class ProcessClient implements Client {
        private final String name;
        private final List<String> command;
        private final Map<String, String> environment;

        ProcessClient(String name, List<String> command, Map<String, String> environment) {
            this.name = name;
            this.command = command;
            this.environment = environment;
        }

        @Override
        public void produce(String topic, int first, int count) throws Exception {
            ProcessResult result = run(broker.bootstrap(), topic, "-", "produce", String.valueOf(first),
                String.valueOf(count));
            assertThat(result.exitCode()).as("%s failed to produce\n%s", name, result.describe()).isZero();
        }

        @Override
        public Read consume(String topic, String group, int expected) throws Exception {
            ProcessResult result = run(broker.bootstrap(), topic, group, "consume", String.valueOf(expected),
                String.valueOf(CONSUME_SECONDS));
            assertThat(result.exitCode()).as("%s failed to consume\n%s", name, result.describe()).isZero();
            return new Read(parse(result.stdout(), name), shorten(result.stderr()));
        }

        ProcessResult run(String... args) throws IOException, InterruptedException {
            List<String> full = new ArrayList<>(command);
            full.addAll(Arrays.asList(args));
            return execute(full, environment, PROCESS_TIMEOUT);
        }
    }

    /** The outcome of one command. */
    private record ProcessResult(String command, int exitCode, String stdout, String stderr) {
        /** For assertion messages: long output is cut in the middle (the output log has all of it). */
        String describe() {
            return "command: " + command + "\nexit code: " + exitCode
                + "\n--- stdout ---\n" + shorten(stdout) + "\n--- stderr ---\n" + shorten(stderr);
        }

        String describeFully() {
            return "command: " + command + "\nexit code: " + exitCode
                + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
        }
    }

    private static String shorten(String text) {
        int keep = 3000;
        return text.length() <= 2 * keep ? text
            : text.substring(0, keep) + "\n[... " + (text.length() - 2 * keep) + " characters left out ...]\n"
                + text.substring(text.length() - keep);
    }

    /** Runs a command with no input; its outcome is also printed to the test's output log. */
    private static ProcessResult execute(List<String> command, Map<String, String> environment, Duration timeout)
        throws IOException, InterruptedException {
        int run = runs.incrementAndGet();
        Path out = outputDir.resolve("run-" + run + ".out");
        Path err = outputDir.resolve("run-" + run + ".err");
        ProcessBuilder builder = new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
        builder.environment().putAll(environment);
        String shown = String.join(" ", command);
        long started = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            ProcessResult result = new ProcessResult(shown, -1, read(out), read(err));
            System.out.println("=== run " + run + " timed out after " + timeout + " ===\n" + result.describeFully());
            throw new AssertionError("timed out after " + timeout + "\n" + result.describe());
        }
        ProcessResult result = new ProcessResult(shown, process.exitValue(), read(out), read(err));
        System.out.println("=== run " + run + " (" + Duration.ofNanos(System.nanoTime() - started).toMillis()
            + " ms) ===\n" + result.describeFully());
        return result;
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }

    /** Fails the test, naming the .ci/run step that installs it, unless the probe command runs and exits 0. */
    private static void requireTool(String what, String install, String... probe)
        throws InterruptedException {
        String problem;
        try {
            ProcessResult result = execute(List.of(probe), Map.of(), Duration.ofSeconds(30));
            if (result.exitCode() == 0) {
                return;
            }
            problem = result.describe();
        } catch (IOException e) {
            problem = String.join(" ", probe) + ": " + e.getMessage();
        }
        fail(what + " is not installed on this machine; .ci/run installs it (" + install + ").\n" + problem);
    }

    /**
     * Debian's python3-confluent-kafka and python3-kafka are installed for the system interpreter, which another
     * python3 earlier on PATH (pyenv, a virtualenv) would not see.
     */
    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /**
     * kafkajs in target/kafkajs/node_modules, installed there with npm when it is not yet (.ci/run installs node
     * and npm; a clean clone or {@code mvn clean} gets it again from the npm registry).
     */
    private static synchronized Path kafkajsModules() throws Exception {
        requireTool("node", "apt-get install nodejs", "node", "--version");
        Path prefix = targetDir().resolve("kafkajs");
        Path modules = prefix.resolve("node_modules");
        Path manifest = modules.resolve("kafkajs").resolve("package.json");
        String wanted = "\"version\": \"" + KAFKAJS_VERSION + "\"";
        if (!Files.exists(manifest) || !Files.readString(manifest).contains(wanted)) {
            requireTool("npm", "apt-get install npm", "npm", "--version");
            Files.createDirectories(prefix);
            ProcessResult install = execute(List.of("npm", "install", "--prefix", prefix.toString(), "--no-audit",
                "--no-fund", "--no-save", "kafkajs@" + KAFKAJS_VERSION), Map.of(), Duration.ofSeconds(120));
            assertThat(install.exitCode()).as("npm could not install kafkajs %s into %s (the test installs it there"
                + " when missing; .ci/run installs node and npm)\n%s", KAFKAJS_VERSION, prefix, install.describe())
                .isZero();
        }
        assertThat(manifest).as("kafkajs after npm install").exists();
        assertThat(Files.readString(manifest)).as("kafkajs version in %s", manifest).contains(wanted);
        return modules;
    }

    /** A client script of src/test/resources/clients/, as copied to the test classes. */
    private static String script(String name) throws URISyntaxException {
        var url = ClientCompatibilityTest.class.getResource("/clients/" + name);
        assertThat(url).as("test resource clients/%s", name).isNotNull();
        return Path.of(url.toURI()).toString();
    }

    /** The build's target directory, parent of the test classes. */
    private static Path targetDir() throws URISyntaxException {
        Path testClasses = Path.of(ClientCompatibilityTest.class.getProtectionDomain().getCodeSource().getLocation()
            .toURI());
        return testClasses.getParent();
    }
}
