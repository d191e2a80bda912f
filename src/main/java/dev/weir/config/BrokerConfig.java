package dev.weir.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The broker's settings: every key with its type, default, lower bound and documentation, kept side by
 * side. Keys use Apache Kafka's names where Kafka has one. Immutable and thread-safe once built.
 */
public final class BrokerConfig {
    public static final String NODE_ID = "node.id";
    public static final String BROKER_RACK = "broker.rack";
    public static final String BROKER_SESSION_TIMEOUT_MS = "broker.session.timeout.ms";
    public static final String BROKER_HEARTBEAT_INTERVAL_MS = "broker.heartbeat.interval.ms";
    public static final String LISTENERS = "listeners";
    public static final String ADVERTISED_LISTENERS = "advertised.listeners";
    public static final String LOG_DIRS = "log.dirs";
    public static final String LOG_DIR = "log.dir";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String AUTO_CREATE_TOPICS_ENABLE = "auto.create.topics.enable";
    public static final String DELETE_TOPIC_ENABLE = "delete.topic.enable";
    public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String SOCKET_SEND_BUFFER_BYTES = "socket.send.buffer.bytes";
    public static final String SOCKET_RECEIVE_BUFFER_BYTES = "socket.receive.buffer.bytes";
    public static final String NUM_NETWORK_THREADS = "num.network.threads";
    public static final String NUM_IO_THREADS = "num.io.threads";
    public static final String MAX_CONNECTIONS = "max.connections";
    public static final String LOG_RETENTION_HOURS = "log.retention.hours";
    public static final String LOG_RETENTION_MS = "log.retention.ms";
    public static final String LOG_RETENTION_BYTES = "log.retention.bytes";
    public static final String LOG_CLEANUP_POLICY = "log.cleanup.policy";
    public static final String LOG_RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String LOG_SEGMENT_DELETE_DELAY_MS = "log.segment.delete.delay.ms";
    public static final String LOG_MERGE_INTERVAL_MS = "log.merge.interval.ms";
    public static final String LOG_MERGE_ROW_BYTES = "log.merge.row.bytes";
    public static final String LOG_MERGE_MIN_AGE_MS = "log.merge.min.age.ms";
    public static final String LOG_CLEANER_IO_MAX_BYTES_PER_SECOND = "log.cleaner.io.max.bytes.per.second";
    public static final String LOG_CLEANER_IO_BUFFER_SIZE = "log.cleaner.io.buffer.size";
    public static final String LOG_CLEANER_DEDUPE_BUFFER_SIZE = "log.cleaner.dedupe.buffer.size";
    public static final String LOG_MESSAGE_TIMESTAMP_TYPE = "log.message.timestamp.type";
    public static final String LOG_MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "log.message.timestamp.before.max.ms";
    public static final String LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS = "log.message.timestamp.after.max.ms";
    public static final String MAX_PARTITIONS_PER_TOPIC = "max.partitions.per.topic";
    public static final String MAX_PARTITIONS = "max.partitions";
    public static final String CONNECTION_MAX_INFLIGHT_REQUESTS = "connection.max.inflight.requests";
    public static final String QUEUED_MAX_REQUEST_BYTES = "queued.max.request.bytes";
    public static final String QUEUED_MAX_RESPONSE_BYTES = "queued.max.response.bytes";
    public static final String SOCKET_REQUEST_STALL_TIMEOUT_MS = "socket.request.stall.timeout.ms";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String GROUP_MAX_SIZE = "group.max.size";
    public static final String GROUP_MAX_MEMBER_METADATA_BYTES = "group.max.member.metadata.bytes";
    public static final String GROUP_MAX_GROUPS = "group.max.groups";
    public static final String GROUP_MAX_TOTAL_METADATA_BYTES = "group.max.total.metadata.bytes";
    public static final String GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS = "group.consumer.heartbeat.interval.ms";
    public static final String GROUP_CONSUMER_SESSION_TIMEOUT_MS = "group.consumer.session.timeout.ms";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String WAL_OBJECT_MAX_BYTES = "wal.object.max.bytes";
    public static final String WAL_OBJECT_MAX_AGE_MS = "wal.object.max.age.ms";
    public static final String WAL_MAX_INFLIGHT_OBJECTS = "wal.max.inflight.objects";
    public static final String WAL_FILE_BYTES = "wal.file.bytes";
    public static final String WAL_FILE_ROLL_MS = "wal.file.roll.ms";
    public static final String FETCH_MAX_WAIT_MS_LIMIT = "fetch.max.wait.ms.limit";
    public static final String FETCH_MAX_BYTES = "fetch.max.bytes";
    public static final String FETCH_BUFFER_POOL_BYTES = "fetch.buffer.pool.bytes";
    public static final String FETCH_VERIFY_CRC = "fetch.verify.crc";
    public static final String TAIL_INDEX_MAX_BATCHES = "tail.index.max.batches";
    public static final String INDEX_CACHE_MAX_BYTES = "index.cache.max.bytes";
    public static final String NUM_CATCHUP_IO_THREADS = "num.catchup.io.threads";
    public static final String OBJECT_STORE_URL = "object.store.url";
    public static final String S3_ENDPOINT = "s3.endpoint";
    public static final String S3_REGION = "s3.region";
    public static final String S3_PATH_STYLE_ACCESS = "s3.path.style.access";
    public static final String S3_ACCESS_KEY = "s3.access.key";
    public static final String S3_SECRET_KEY = "s3.secret.key";
    public static final String S3_WAL_OBJECT_MAX_BYTES = "s3.wal.object.max.bytes";
    public static final String S3_WAL_OBJECT_MAX_AGE_MS = "s3.wal.object.max.age.ms";
    public static final String S3_MERGE_WINDOW_BYTES = "s3.merge.window.bytes";
    public static final String OBJECT_CACHE_MAX_BYTES = "object.cache.max.bytes";
    public static final String OBJECT_CACHE_BLOCK_BYTES = "object.cache.block.bytes";
    public static final String METADATA_STORE_URL = "metadata.store.url";
    public static final String METADATA_STORE_USER = "metadata.store.user";
    public static final String METADATA_STORE_PASSWORD = "metadata.store.password";

    public static final ConfigDef DEFINITION = new ConfigDef()
        .define(NODE_ID, Type.INT, 0, Range.between(0, 4095), Importance.HIGH,
            "This broker's id among the brokers on one metadata database (each needs its own, at most 4095: the ids"
                + " of the objects a broker writes carry it in 12 bits): Metadata names it as the leader of the"
                + " partitions it wins by rendezvous hashing over the live brokers.")
        .define(BROKER_RACK, Type.STRING, null, Importance.MEDIUM,
            "The rack or zone of this broker, shown to clients in Metadata and DescribeCluster.")
        .define(BROKER_SESSION_TIMEOUT_MS, Type.INT, 9_000, Range.between(100, 600_000), Importance.MEDIUM,
            "A broker whose last heartbeat in the metadata database is older than this is taken for dead: the others"
                + " stop naming it, and a broker started with its node.id may take the id over.")
        .define(BROKER_HEARTBEAT_INTERVAL_MS, Type.INT, 2_000, Range.between(10, 60_000), Importance.MEDIUM,
            "How often a broker writes its heartbeat into the metadata database and reads which brokers are alive.")
        .define(LISTENERS, Type.LIST, "PLAINTEXT://127.0.0.1:9092", Importance.HIGH,
            "Where the broker listens, as NAME://host:port. Only the PLAINTEXT listener is implemented.")
        .define(ADVERTISED_LISTENERS, Type.LIST, null, Importance.HIGH,
            "The address given to clients in Metadata; defaults to the listener itself.")
        .define(LOG_DIRS, Type.LIST, null, Importance.HIGH,
            "The data directory (one). Defaults to log.dir.")
        .define(LOG_DIR, Type.STRING, "weir-data", Importance.HIGH,
            "The data directory used when log.dirs is not set, relative to the working directory.")
        .define(NUM_PARTITIONS, Type.INT, 1, Range.between(1, 100_000), Importance.MEDIUM,
            "Partitions of a topic created without a partition count.")
        .define(DEFAULT_REPLICATION_FACTOR, Type.SHORT, (short) 1, Range.between(1, 1), Importance.MEDIUM,
            "Replication factor of a topic created without one. Durability comes from fsync, so it is 1.")
        .define(AUTO_CREATE_TOPICS_ENABLE, Type.BOOLEAN, true, Importance.MEDIUM,
            "Create a topic when a client asks Metadata for one that does not exist.")
        .define(DELETE_TOPIC_ENABLE, Type.BOOLEAN, true, Importance.MEDIUM,
            "Allow DeleteTopics.")
        .define(MESSAGE_MAX_BYTES, Type.INT, 1048588, Range.atLeast(1024), Importance.HIGH,
            "The largest record batch a producer may send (topic override: max.message.bytes).")
        .define(SOCKET_REQUEST_MAX_BYTES, Type.INT, 104857600, Range.atLeast(1024), Importance.HIGH,
            "The largest request frame; a larger frame closes its connection.")
        .define(SOCKET_SEND_BUFFER_BYTES, Type.INT, 102400, Range.atLeast(-1), Importance.MEDIUM,
            "SO_SNDBUF of client connections (-1: the operating system's default, which grows with the"
                + " connection). Kafka's default: with it a fetch response leaves in larger pieces per sendfile and"
                + " the broker spends less CPU per byte consumed than with the grown default.")
        .define(SOCKET_RECEIVE_BUFFER_BYTES, Type.INT, -1, Range.atLeast(-1), Importance.MEDIUM,
            "SO_RCVBUF of client connections (-1: the operating system's default, which grows with the"
                + " connection).")
        .define(NUM_NETWORK_THREADS, Type.INT, 3, Range.between(1, 256), Importance.LOW,
            "Event-loop threads that read and write sockets.")
        .define(NUM_IO_THREADS, Type.INT, 8, Range.between(1, 256), Importance.LOW,
            "Threads that serve fetches at the tail of their partitions (see num.catchup.io.threads) and run metadata"
                + " requests.")
        .define(MAX_CONNECTIONS, Type.INT, 10_000, Range.atLeast(1), Importance.MEDIUM,
            "Connections the broker accepts at once; further connections are closed.")
        .define(LOG_RETENTION_HOURS, Type.INT, 168, Importance.HIGH,
            "Default retention in hours (retention.ms of topics), used when log.retention.ms is not set.")
        .define(LOG_RETENTION_MS, Type.LONG, null, Importance.HIGH,
            "Default retention in milliseconds (-1: forever); overrides log.retention.hours.")
        .define(LOG_RETENTION_BYTES, Type.LONG, -1L, Importance.HIGH,
            "Default retention.bytes of a partition (-1: no limit).")
        .define(LOG_RETENTION_CHECK_INTERVAL_MS, Type.LONG, 300_000L, Range.atLeast(1), Importance.MEDIUM,
            "How often retention is enforced and unreferenced objects are collected.")
        .define(LOG_SEGMENT_DELETE_DELAY_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.MEDIUM,
            "How long an object nothing refers to is kept before it is deleted, so reads in flight finish.")
        .define(LOG_MERGE_INTERVAL_MS, Type.LONG, 10_000L, Range.atLeast(1), Importance.MEDIUM,
            "How often committed WAL objects are merged into per-partition segment objects (and small neighbouring"
                + " segments into larger ones). WAL objects are kept for about log.merge.min.age.ms plus this plus"
                + " log.segment.delete.delay.ms.")
        .define(LOG_MERGE_MIN_AGE_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.MEDIUM,
            "WAL objects are merged once they are this old: until then tail consumers read them where they were"
                + " written, and data that short retention drops soon is never rewritten.")
        .define(LOG_MERGE_ROW_BYTES, Type.INT, 1024 * 1024, Range.between(4096, 64 * 1024 * 1024), Importance.LOW,
            "A merged segment gets one index row per this many bytes of batches; a read starting inside a row walks"
                + " the batch headers before it.")
        .define(LOG_CLEANER_IO_MAX_BYTES_PER_SECOND, Type.DOUBLE, Double.MAX_VALUE, Range.atLeast(1), Importance.MEDIUM,
            "The most bytes per second that merging and compaction read, together.")
        .define(LOG_CLEANER_IO_BUFFER_SIZE, Type.INT, 512 * 1024, Range.between(4096, 64 * 1024 * 1024), Importance.LOW,
            "The copy buffer of the background thread that writes merged and compacted segments.")
        .define(LOG_CLEANER_DEDUPE_BUFFER_SIZE, Type.LONG, 128L * 1024 * 1024, Range.atLeast(1024 * 1024),
            Importance.MEDIUM, "Heap for compaction's map of the latest offset of each key (about 100 bytes a key);"
                + " a cleaning that fills it stops there and the next one goes on.")
        .define(LOG_CLEANUP_POLICY, Type.LIST, "delete", ConfigDef.ValidList.in("delete", "compact"), Importance.MEDIUM,
            "Default cleanup.policy of topics.")
        .define(LOG_MESSAGE_TIMESTAMP_TYPE, Type.STRING, "CreateTime",
            ConfigDef.ValidString.in("CreateTime", "LogAppendTime"), Importance.MEDIUM,
            "Default message.timestamp.type of topics.")
        .define(LOG_MESSAGE_TIMESTAMP_BEFORE_MAX_MS, Type.LONG, Long.MAX_VALUE, Range.atLeast(0), Importance.MEDIUM,
            "Default message.timestamp.before.max.ms of topics.")
        .define(LOG_MESSAGE_TIMESTAMP_AFTER_MAX_MS, Type.LONG, 3_600_000L, Range.atLeast(0), Importance.MEDIUM,
            "Default message.timestamp.after.max.ms of topics.")
        .define(MAX_PARTITIONS_PER_TOPIC, Type.INT, 10_000, Range.between(1, 1_000_000), Importance.MEDIUM,
            "The most partitions one topic may have; CreateTopics and CreatePartitions above it get INVALID_PARTITIONS.")
        .define(MAX_PARTITIONS, Type.INT, 100_000, Range.between(1, 10_000_000), Importance.MEDIUM,
            "The most partitions the broker holds in all; a request above it gets INVALID_PARTITIONS.")
        .define(CONNECTION_MAX_INFLIGHT_REQUESTS, Type.INT, 32, Range.between(1, 1024), Importance.LOW,
            "Requests one connection may have in progress; the broker stops reading that socket beyond it.")
        .define(QUEUED_MAX_REQUEST_BYTES, Type.LONG, 256L * 1024 * 1024, Range.atLeast(1024 * 1024), Importance.MEDIUM,
            "Bytes of received requests not yet answered, across all connections; beyond it connections wait"
                + " before reading more (a single request larger than this is still admitted when nothing else is queued)."
                + " A request's bytes are counted as they arrive, not when its size is read.")
        .define(QUEUED_MAX_RESPONSE_BYTES, Type.LONG, 256L * 1024 * 1024, Range.atLeast(1024 * 1024), Importance.MEDIUM,
            "Bytes of fetched batches held in memory by responses not yet written to their sockets, across all"
                + " connections (each connection holds at most fetch.max.bytes of them, and is not read while it"
                + " does); a fetch that finds it spent sends its batches from their files instead (sendfile), which"
                + " holds next to no memory.")
        .define(SOCKET_REQUEST_STALL_TIMEOUT_MS, Type.LONG, 30_000L, Range.between(100, 3_600_000), Importance.LOW,
            "A connection that sends part of a request and then nothing for this long is closed, so that peers"
                + " which stop mid-request cannot hold request memory.")
        .define(CONNECTIONS_MAX_IDLE_MS, Type.LONG, 600_000L, Range.between(1000, Long.MAX_VALUE / 2), Importance.MEDIUM,
            "A connection with no request in progress that reads and writes nothing for this long is closed (a peer"
                + " that does not read its responses counts as idle).")
        .define(GROUP_MIN_SESSION_TIMEOUT_MS, Type.INT, 6000, Range.atLeast(1), Importance.MEDIUM,
            "The shortest session timeout a classic group member may ask for (INVALID_SESSION_TIMEOUT below it).")
        .define(GROUP_MAX_SESSION_TIMEOUT_MS, Type.INT, 1_800_000, Range.atLeast(1), Importance.MEDIUM,
            "The longest session timeout a classic group member may ask for (INVALID_SESSION_TIMEOUT above it).")
        .define(GROUP_INITIAL_REBALANCE_DELAY_MS, Type.INT, 0, Range.atLeast(0), Importance.MEDIUM,
            "How long a new classic group waits for more members before its first rebalance (Kafka ships 0 in its"
                + " example configuration, 3000 in code).")
        .define(GROUP_MAX_SIZE, Type.INT, 1000, Range.atLeast(1), Importance.MEDIUM,
            "The most members of one group (GROUP_MAX_SIZE_REACHED beyond it).")
        .define(GROUP_MAX_MEMBER_METADATA_BYTES, Type.INT, 1024 * 1024, Range.atLeast(1024), Importance.LOW,
            "The most protocol metadata one classic member may send in JoinGroup (INVALID_REQUEST beyond it).")
        .define(GROUP_MAX_GROUPS, Type.INT, 100_000, Range.atLeast(1), Importance.LOW,
            "The most groups the coordinator holds (GROUP_MAX_SIZE_REACHED for a new one beyond it). A group with"
                + " neither members nor committed offsets is forgotten at the next offsets cleanup, as in Kafka.")
        .define(GROUP_MAX_TOTAL_METADATA_BYTES, Type.LONG, 128L * 1024 * 1024, Range.atLeast(1024 * 1024),
            Importance.MEDIUM, "The heap that the members of all groups may hold together: protocol metadata,"
                + " assignments, subscriptions and ids, plus an estimate of the objects around them. A join beyond it"
                + " gets GROUP_MAX_SIZE_REACHED; a member above 64 KiB may not take the last eighth of it, which"
                + " stays for ordinary members. Members that leave or expire, and groups that are deleted, give"
                + " their share back.")
        .define(GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS, Type.INT, 5000, Range.atLeast(1), Importance.MEDIUM,
            "The heartbeat interval of consumer-protocol (KIP-848) group members.")
        .define(GROUP_CONSUMER_SESSION_TIMEOUT_MS, Type.INT, 45_000, Range.atLeast(1), Importance.MEDIUM,
            "The session timeout of consumer-protocol (KIP-848) group members.")
        .define(OFFSET_METADATA_MAX_BYTES, Type.INT, 4096, Range.atLeast(0), Importance.LOW,
            "The longest metadata string of a committed offset (OFFSET_METADATA_TOO_LARGE beyond it).")
        .define(OFFSETS_RETENTION_MINUTES, Type.INT, 10_080, Range.atLeast(1), Importance.MEDIUM,
            "How long the committed offsets of an empty group are kept after its last commit.")
        .define(WAL_OBJECT_MAX_BYTES, Type.INT, 8 * 1024 * 1024, Range.between(64 * 1024, 512 * 1024 * 1024),
            Importance.MEDIUM, "A WAL object is sealed when it reaches this size.")
        .define(WAL_OBJECT_MAX_AGE_MS, Type.INT, 2, Range.between(0, 10_000), Importance.MEDIUM,
            "A WAL object is sealed at most this long after its first batch arrived (0: as soon as the writer is free).")
        .define(WAL_MAX_INFLIGHT_OBJECTS, Type.INT, 2, Range.between(1, 64), Importance.LOW,
            "WAL objects that may be written at once; commits still happen in order.")
        .define(WAL_FILE_BYTES, Type.INT, 64 * 1024 * 1024, Range.between(1024 * 1024, 1024 * 1024 * 1024),
            Importance.LOW, "WAL objects are written one after another into WAL files of this size, each created and"
                + " filled with zeros ahead of use, so writing an object syncs only its data. An object larger than"
                + " this gets a file of its own.")
        .define(WAL_FILE_ROLL_MS, Type.LONG, 10_000L, Range.between(0, 3_600_000), Importance.LOW,
            "A WAL file takes no new objects once it is this old, so that merging and garbage collection, which"
                + " leave the file being written alone, can reclaim it.")
        .define(FETCH_BUFFER_POOL_BYTES, Type.LONG, 128L * 1024 * 1024, Range.atLeast(0), Importance.LOW,
            "Idle direct memory kept for reuse by fetch responses (buffers in use are bounded by"
                + " queued.max.request.bytes and the fetches in flight).")
        .define(FETCH_VERIFY_CRC, Type.BOOLEAN, false, Importance.LOW,
            "Check every batch's CRC before a fetch sends it (a corrupt batch then gets KAFKA_STORAGE_ERROR). Off:"
                + " large batches go from file to socket without a copy (sendfile), as Kafka sends its log, and"
                + " clients check the CRCs (check.crcs).")
        .define(FETCH_MAX_BYTES, Type.INT, 55 * 1024 * 1024, Range.atLeast(1024), Importance.MEDIUM,
            "The most record bytes one fetch response carries, whatever the request's max_bytes (Kafka's default);"
                + " the first batch is returned whole even when it is larger.")
        .define(FETCH_MAX_WAIT_MS_LIMIT, Type.INT, 30_000, Range.between(0, 600_000), Importance.LOW,
            "The longest a fetch is held for max.wait.ms, whatever the client asks.")
        .define(TAIL_INDEX_MAX_BATCHES, Type.INT, 1_000_000, Range.between(1024, 100_000_000), Importance.LOW,
            "Recent batch locations kept in memory, shared by all partitions (each keeps 16 to 8192); older"
                + " ones are read from the index database. About 120 bytes each.")
        .define(INDEX_CACHE_MAX_BYTES, Type.LONG, 32L * 1024 * 1024, Range.atLeast(0), Importance.LOW,
            "Heap kept for pages of older batch locations read from the index database, so a consumer catching up"
                + " asks the database once per 256 batches rather than once per fetch. A page is kept at most 10 s"
                + " (and at most half of log.segment.delete.delay.ms). 0: every read below the in-memory tail asks"
                + " the database.")
        .define(NUM_CATCHUP_IO_THREADS, Type.INT, 4, Range.between(1, 256), Importance.LOW,
            "Threads that serve catch-up fetches: those reading below the in-memory tail (older objects, from the"
                + " index database), so consumers replaying history never hold up tail consumers and metadata"
                + " requests, which run on num.io.threads.")
        .define(OBJECT_STORE_URL, Type.STRING, null, Importance.HIGH,
            "Where the log's bytes live: s3://bucket or s3://bucket/prefix for S3 or an S3-compatible store"
                + " (see the s3.* keys), or file:/path for a local directory. Unset: the objects directory of the"
                + " data directory.")
        .define(S3_ENDPOINT, Type.STRING, null, Importance.MEDIUM,
            "The URL of an S3-compatible server (MinIO, Ceph, ...); unset: AWS S3.")
        .define(S3_REGION, Type.STRING, null, Importance.MEDIUM,
            "The S3 region; unset: the AWS SDK's default region chain (us-east-1 when s3.endpoint is set).")
        .define(S3_PATH_STYLE_ACCESS, Type.BOOLEAN, false, Importance.MEDIUM,
            "Address the bucket in the URL's path rather than its host name, as most S3-compatible servers need.")
        .define(S3_ACCESS_KEY, Type.STRING, null, Importance.MEDIUM,
            "The S3 access key id; unset: the AWS SDK's default credentials chain (environment, profile, web"
                + " identity, container or instance role).")
        .define(S3_SECRET_KEY, Type.PASSWORD, null, Importance.MEDIUM,
            "The S3 secret access key, with s3.access.key.")
        .define(S3_WAL_OBJECT_MAX_BYTES, Type.INT, 8 * 1024 * 1024, Range.between(64 * 1024, 512 * 1024 * 1024),
            Importance.MEDIUM, "On S3, where each WAL object is one PUT: a WAL object is sealed when it reaches this"
                + " size (wal.object.max.bytes is for local disk).")
        .define(S3_WAL_OBJECT_MAX_AGE_MS, Type.INT, 200, Range.between(1, 10_000), Importance.MEDIUM,
            "On S3, where each WAL object is one PUT and costs a request: a WAL object is sealed this long after"
                + " its first batch arrived, unless it reached s3.wal.object.max.bytes before. Produce latency grows"
                + " with it, request costs shrink (wal.object.max.age.ms is for local disk).")
        .define(S3_MERGE_WINDOW_BYTES, Type.INT, 64 * 1024 * 1024, Range.between(0, 1024 * 1024 * 1024),
            Importance.LOW, "On S3: memory (off the heap) in which merging holds WAL objects, each read whole with one"
                + " GET (none for what the object cache holds) and copied from there into every partition's segments,"
                + " rather than one GET per batch. A merging pass over more WAL bytes goes a window of this size at a"
                + " time, each partition getting segments per window (joined later by merging small segments); a WAL"
                + " object larger than this (see s3.wal.object.max.bytes) is read batch by batch. 0: every object"
                + " batch by batch.")
        .define(OBJECT_CACHE_MAX_BYTES, Type.LONG, 256L * 1024 * 1024, Range.atLeast(0), Importance.MEDIUM,
            "On an object store without local files (S3): heap kept for the bytes of objects last written and read,"
                + " so that tail consumers read the WAL objects this broker uploaded without a GET, and reads that"
                + " miss fetch whole blocks (object.cache.block.bytes). Each block counts about 250 bytes more than"
                + " its own. 0: no cache, every read is a ranged GET. The local store has none: it sends from its"
                + " files.")
        .define(OBJECT_CACHE_BLOCK_BYTES, Type.INT, 1024 * 1024, Range.between(64 * 1024, 64 * 1024 * 1024),
            Importance.LOW, "A read that misses the object cache fetches the aligned blocks of this size around it"
                + " (a smaller object whole), adjacent ones with one GET: larger blocks mean fewer GETs for a reader"
                + " walking through an object, and more bytes fetched for one that reads a little.")
        .define(METADATA_STORE_URL, Type.STRING, null, Importance.HIGH,
            "The metadata database: jdbc:postgresql://host:port/database for PostgreSQL. Unset: SQLite in the"
                + " data directory.")
        .define(METADATA_STORE_USER, Type.STRING, null, Importance.MEDIUM,
            "The PostgreSQL user, unless the URL names it.")
        .define(METADATA_STORE_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
            "The PostgreSQL password, unless the URL names it.");

    private final Map<String, Object> values;
    private final Map<String, String> explicit;

    private BrokerConfig(Map<String, Object> values, Map<String, String> explicit) {
        this.values = values;
        this.explicit = explicit;
    }

    /** Validates the given settings; throws {@link InvalidConfigException} naming the first bad key. */
    public static BrokerConfig of(Map<String, String> settings) {
        Map<String, String> explicit = new TreeMap<>(settings);
        for (String key : explicit.keySet()) {
            if (!DEFINITION.names().contains(key)) {
                throw new InvalidConfigException(key, "unknown configuration key");
            }
        }
        Map<String, Object> parsed;
        try {
            parsed = DEFINITION.parse(explicit);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new InvalidConfigException(e.getMessage());
        }
        BrokerConfig config = new BrokerConfig(parsed, explicit);
        config.listener();
        config.advertisedListener();
        List<String> dirs = config.list(LOG_DIRS);
        if (dirs != null && dirs.size() != 1) {
            throw new InvalidConfigException(LOG_DIRS, "exactly one data directory is supported, got " + dirs);
        }
        config.objectStoreUrl();
        String metadataUrl = config.string(METADATA_STORE_URL);
        if (metadataUrl != null && !metadataUrl.startsWith("jdbc:postgresql:")) {
            throw new InvalidConfigException(METADATA_STORE_URL, "must be a jdbc:postgresql: URL (unset: SQLite in"
                + " the data directory), got " + metadataUrl);
        }
        return config;
    }

    public static BrokerConfig defaults() {
        return of(Map.of());
    }

    public int nodeId() {
        return (Integer) values.get(NODE_ID);
    }

    public Listener listener() {
        List<String> listeners = list(LISTENERS);
        if (listeners.size() != 1) {
            throw new InvalidConfigException(LISTENERS, "exactly one listener is supported, got " + listeners);
        }
        return Listener.parse(LISTENERS, listeners.get(0));
    }

    public Listener advertisedListener() {
        List<String> advertised = list(ADVERTISED_LISTENERS);
        if (advertised == null) {
            return listener();
        }
        if (advertised.size() != 1) {
            throw new InvalidConfigException(ADVERTISED_LISTENERS, "exactly one listener is supported, got " + advertised);
        }
        Listener parsed = Listener.parse(ADVERTISED_LISTENERS, advertised.get(0));
        if (parsed.host().isEmpty() || parsed.host().equals("0.0.0.0") || parsed.port() == 0) {
            throw new InvalidConfigException(ADVERTISED_LISTENERS, "must name a reachable host and port: " + advertised.get(0));
        }
        return parsed;
    }

    /** Where the objects live, an s3: or file: URI, or null for the data directory's own. */
    public java.net.URI objectStoreUrl() {
        String url = string(OBJECT_STORE_URL);
        if (url == null) {
            return null;
        }
        java.net.URI parsed;
        try {
            parsed = new java.net.URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new InvalidConfigException(OBJECT_STORE_URL, "not a URL: " + e.getMessage());
        }
        boolean s3 = "s3".equals(parsed.getScheme()) && parsed.getHost() != null && !parsed.getHost().isEmpty();
        boolean file = "file".equals(parsed.getScheme()) && parsed.getPath() != null && !parsed.getPath().isEmpty();
        if (!s3 && !file) {
            throw new InvalidConfigException(OBJECT_STORE_URL, "must be s3://bucket[/prefix] or file:/path, got " + url);
        }
        return parsed;
    }

    /** A password's value, or null when unset. */
    public String password(String key) {
        Object value = values.get(key);
        return value == null ? null : ((org.apache.kafka.common.config.types.Password) value).value();
    }

    public Path dataDir() {
        List<String> dirs = list(LOG_DIRS);
        return Path.of(dirs != null ? dirs.get(0) : string(LOG_DIR)).toAbsolutePath().normalize();
    }

    public long defaultRetentionMs() {
        Object ms = values.get(LOG_RETENTION_MS);
        return ms != null ? (Long) ms : (Integer) values.get(LOG_RETENTION_HOURS) * 3_600_000L;
    }

    public Object value(String key) {
        return values.get(key);
    }

    public int getInt(String key) {
        return (Integer) values.get(key);
    }

    public long getLong(String key) {
        return (Long) values.get(key);
    }

    public double getDouble(String key) {
        return (Double) values.get(key);
    }

    public boolean getBoolean(String key) {
        return (Boolean) values.get(key);
    }

    public String string(String key) {
        return (String) values.get(key);
    }

    @SuppressWarnings("unchecked")
    public List<String> list(String key) {
        return (List<String>) values.get(key);
    }

    /** The value as it would be written in a properties file, or null when unset and without default. */
    public String valueAsString(String key) {
        Object value = values.get(key);
        if (value == null) {
            return null;
        }
        if (value instanceof List<?> list) {
            return String.join(",", list.stream().map(String::valueOf).toList());
        }
        return String.valueOf(value);
    }

    /** Whether the key was set by the operator (file or environment) rather than left at its default. */
    public boolean isExplicit(String key) {
        return explicit.containsKey(key);
    }
}
