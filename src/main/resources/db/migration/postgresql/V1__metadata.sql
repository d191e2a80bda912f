-- The metadata of the cluster shape, shared by every broker: the schema of SQLite's V1 to V6 in one,
-- with PostgreSQL's types. Offsets, producer state and object bookkeeping live only here; a broker
-- holds caches of them. Topic ids are Kafka's 128-bit ids as uuid. Object keys compare byte by byte
-- (COLLATE "C"), as in SQLite: merging and garbage collection select objects by key ranges, which a
-- language's collation would reorder.

-- One row: the cluster's identity, and the newest WAL file that ever had an object committed (kept
-- when the file itself is deleted: start-up commits again the objects written after it).
CREATE TABLE cluster (
    id            smallint PRIMARY KEY CHECK (id = 1),
    cluster_id    text     NOT NULL,
    last_wal_file text     COLLATE "C"
);

-- Producer ids are handed out by a sequence: unique across brokers without a row every broker locks.
CREATE SEQUENCE producer_ids AS bigint MINVALUE 0 START WITH 0;

CREATE TABLE topics (
    topic_id   uuid    PRIMARY KEY,
    name       text    NOT NULL UNIQUE,
    partitions integer NOT NULL,
    created_ms bigint  NOT NULL
);

CREATE TABLE topic_configs (
    topic_id uuid NOT NULL,
    name     text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (topic_id, name)
);

-- next_offset is the log end offset (exclusive); offsets are assigned from it at commit, under the
-- row's lock. Every change of a partition's batches (commit, retention, merging, deletion) locks its
-- row first, and a transaction that locks several locks them in (topic_id, partition) order.
-- clean_offset is compaction's checkpoint: offsets below it have been compacted.
CREATE TABLE partitions (
    topic_id         uuid    NOT NULL,
    partition        integer NOT NULL,
    log_start_offset bigint  NOT NULL,
    next_offset      bigint  NOT NULL,
    clean_offset     bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (topic_id, partition),
    CHECK (log_start_offset >= 0 AND next_offset >= log_start_offset)
);

-- A row exists only for committed objects; any other object in the store is garbage. For a WAL file,
-- size is where its last committed object ends and created_ms when that object was committed.
-- unreferenced_since_ms: when the object was first seen with no batch referring to it; it is deleted
-- a grace period later, so a read that located a batch just before it was dropped can still finish.
CREATE TABLE objects (
    object_key            text   COLLATE "C" PRIMARY KEY,
    size                  bigint NOT NULL,
    created_ms            bigint NOT NULL,
    unreferenced_since_ms bigint
);

-- A row with final_headers false in a WAL file is one batch whose offsets readers write in as they
-- send it; a row of a segment, or kept in place in a WAL file by merging (final_headers true), is a
-- run of consecutive batches with their final offsets written in.
CREATE TABLE batches (
    topic_id      uuid    NOT NULL,
    partition     integer NOT NULL,
    base_offset   bigint  NOT NULL,
    last_offset   bigint  NOT NULL,
    object_key    text    COLLATE "C" NOT NULL,
    position      bigint  NOT NULL,
    size          integer NOT NULL,
    max_timestamp bigint  NOT NULL,
    final_headers boolean NOT NULL DEFAULT false,
    PRIMARY KEY (topic_id, partition, base_offset),
    CHECK (last_offset >= base_offset)
);

CREATE INDEX batches_by_object ON batches (object_key);

-- The last batches of each idempotent producer per partition, for duplicate detection, encoded as
-- ProducerSequences encodes them.
CREATE TABLE producer_state (
    producer_id bigint   NOT NULL,
    topic_id    uuid     NOT NULL,
    partition   integer  NOT NULL,
    epoch       smallint NOT NULL,
    batches     text     NOT NULL,
    updated_ms  bigint   NOT NULL,
    PRIMARY KEY (producer_id, topic_id, partition)
);

CREATE INDEX producer_state_by_topic ON producer_state (topic_id);

-- Per-partition segment objects written by merging WAL objects (and rewritten by compaction).
CREATE TABLE segments (
    object_key  text    COLLATE "C" PRIMARY KEY,
    topic_id    uuid    NOT NULL,
    partition   integer NOT NULL,
    base_offset bigint  NOT NULL,
    last_offset bigint  NOT NULL,
    size        bigint  NOT NULL,
    created_ms  bigint  NOT NULL
);

CREATE INDEX segments_by_partition ON segments (topic_id, partition, base_offset);

-- Committed offsets of consumer groups, keyed by topic name as Kafka keys them.
CREATE TABLE group_offsets (
    group_id         text    NOT NULL,
    topic            text    NOT NULL,
    partition        integer NOT NULL,
    committed_offset bigint  NOT NULL,
    leader_epoch     integer NOT NULL,
    metadata         text,
    commit_ms        bigint  NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);

CREATE INDEX group_offsets_by_topic ON group_offsets (topic);
