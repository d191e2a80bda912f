import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counters of the cluster shape's two servers, read from the outside for bench/run --cluster, which
 * runs it beside the broker as a coprocess, compiled once per run:
 *
 * <pre>javac -d CLASSES bench/BenchClusterStats.java
 *     java -cp 'CLASSES:target/lib/*' BenchClusterStats JDBC_URL USER DATABASE METRICS_URL</pre>
 *
 * It reads commands on standard input and answers each with one line:
 * <ul>
 *   <li>{@code create database}: creates DATABASE, for the broker, waiting up to a minute for PostgreSQL
 *       to take connections; answers {@code ok}.</li>
 *   <li>{@code snap}: the counters as {@code key=value} pairs separated by spaces. From S3Proxy's
 *       Prometheus endpoint, per S3 operation and HTTP status, the requests served and the seconds S3Proxy
 *       spent on them ({@code s3.PutObject.200.count}, {@code s3.PutObject.200.seconds}); from PostgreSQL's
 *       {@code pg_stat_database}, the transactions DATABASE committed and rolled back ({@code pg.xact_commit},
 *       {@code pg.xact_rollback}). The broker's backends report their counts to PostgreSQL's statistics at
 *       most once a second, so the snapshot waits a little over a second first.</li>
 *   <li>{@code statements on} / {@code statements off}: PostgreSQL logs every statement with its duration
 *       ({@code log_min_duration_statement} 0), or none again; set with ALTER SYSTEM and a reload, then
 *       a short wait for the backends to take it.</li>
 * </ul>
 * A failure answers {@code error MESSAGE} rather than ending the process, so that bench/run never
 * waits for an answer that does not come. Counters are cumulative; bench/report.py takes differences.
 */
public final class BenchClusterStats {
    /** The broker's backends flush their statistics at most this often (PostgreSQL's PGSTAT_MIN_INTERVAL). */
    private static final long STATS_FLUSH_WAIT_MS = 1100;
    /** How long {@code create database} waits for a server that is still starting. */
    private static final long START_WAIT_MS = 60_000;
    /** Time for every backend to read the configuration after pg_reload_conf(). */
    private static final long RELOAD_WAIT_MS = 300;
    private static final Pattern SAMPLE = Pattern.compile("^http_server_request_duration_seconds_(count|sum)\\{(.*)\\} (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final String jdbcUrl;
    private final String user;
    private final String database;
    private final URI metrics;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Connection connection;

    private BenchClusterStats(String jdbcUrl, String user, String database, URI metrics) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.database = database;
        this.metrics = metrics;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: BenchClusterStats JDBC_URL USER DATABASE METRICS_URL");
            System.exit(2);
        }
        BenchClusterStats stats = new BenchClusterStats(args[0], args[1], args[2], URI.create(args[3]));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String command; (command = in.readLine()) != null; ) {
            out.println(stats.answer(command.trim()));
        }
    }

    private String answer(String command) {
        try {
            switch (command) {
                case "snap":
                    Thread.sleep(STATS_FLUSH_WAIT_MS);
                    Map<String, String> values = new TreeMap<>(s3Counters());
                    values.putAll(postgresCounters());
                    StringBuilder line = new StringBuilder();
                    values.forEach((key, value) -> line.append(line.length() == 0 ? "" : " ").append(key).append('=').append(value));
                    return line.toString();
                case "create database":
                    return createDatabase();
                case "statements on":
                    return statementLog(0);
                case "statements off":
                    return statementLog(-1);
                default:
                    return "error unknown command '" + command + "'";
            }
        } catch (Exception e) {
            closeQuietly();
            return "error " + e.toString().replace('\n', ' ');
        }
    }

    /** Requests and seconds per S3 operation and status, from S3Proxy's histogram of request durations. */
    private Map<String, String> s3Counters() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("S3Proxy's metrics answered HTTP " + response.statusCode());
        }
        Map<String, String> values = new TreeMap<>();
        for (String row : response.body().split("\n")) {
            Matcher sample = SAMPLE.matcher(row.trim());
            if (!sample.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            for (Matcher label = LABEL.matcher(sample.group(2)); label.find(); ) {
                labels.put(label.group(1), label.group(2));
            }
            String operation = labels.getOrDefault("s3_operation", labels.getOrDefault("http_request_method", "unknown"));
            String key = "s3." + operation + "." + labels.getOrDefault("http_response_status_code", "0") + "."
                + ("count".equals(sample.group(1)) ? "count" : "seconds");
            values.put(key, sample.group(3));
        }
        return values;
    }

    private Map<String, String> postgresCounters() throws SQLException {
        Map<String, String> values = new TreeMap<>();
        try (PreparedStatement select = connection().prepareStatement(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = ?")) {
            select.setString(1, database);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next()) {
                    throw new SQLException("no database " + database + " in pg_stat_database");
                }
                values.put("pg.xact_commit", Long.toString(row.getLong(1)));
                values.put("pg.xact_rollback", Long.toString(row.getLong(2)));
            }
        }
        return values;
    }

    private String createDatabase() throws SQLException, InterruptedException {
        if (!database.matches("[a-z][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("not a plain database name: " + database);
        }
        long deadline = System.currentTimeMillis() + START_WAIT_MS;
        while (true) {
            try (Statement statement = connection().createStatement()) {
                statement.execute("CREATE DATABASE " + database);
                return "ok";
            } catch (SQLException notYet) {
                closeQuietly();
                if (System.currentTimeMillis() > deadline) {
                    throw notYet;
                }
                Thread.sleep(200);
            }
        }
    }

    private String statementLog(int minDurationMs) throws SQLException, InterruptedException {
        try (Statement statement = connection().createStatement()) {
            statement.execute("ALTER SYSTEM SET log_min_duration_statement = " + minDurationMs);
            statement.execute("SELECT pg_reload_conf()");
        }
        Thread.sleep(RELOAD_WAIT_MS);
        return "ok";
    }

    /** One connection, to the server's own database (so the sampler's queries are not counted as the broker's). */
    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = DriverManager.getConnection(jdbcUrl, user, null);
            connection.setAutoCommit(true);
        }
        return connection;
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // A new one is opened for the next command.
            }
            connection = null;
        }
    }
}
