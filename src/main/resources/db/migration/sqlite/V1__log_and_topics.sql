-- One row: the cluster's identity and the producer-id sequence.
CREATE TABLE cluster (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    cluster_id       TEXT    NOT NULL,
    next_producer_id INTEGER NOT NULL
);

CREATE TABLE topics (
    topic_id   TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE topic_configs (
    topic_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (topic_id, name)
) WITHOUT ROWID;

-- next_offset is the log end offset (exclusive); offsets are assigned from it at commit.
CREATE TABLE partitions (
    topic_id         TEXT    NOT NULL,
    partition        INTEGER NOT NULL,
    log_start_offset INTEGER NOT NULL,
    next_offset      INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition)
) WITHOUT ROWID;

-- A row exists only for committed objects; any other object in the store is garbage.
CREATE TABLE objects (
    object_key TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE batches (
    topic_id      TEXT    NOT NULL,
    partition     INTEGER NOT NULL,
    base_offset   INTEGER NOT NULL,
    last_offset   INTEGER NOT NULL,
    object_key    TEXT    NOT NULL,
    position      INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    max_timestamp INTEGER NOT NULL,
    PRIMARY KEY (topic_id, partition, base_offset)
) WITHOUT ROWID;

CREATE INDEX batches_by_object ON batches (object_key);

-- The last batches of each idempotent producer per partition, for duplicate detection.
CREATE TABLE producer_state (
    producer_id INTEGER NOT NULL,
    topic_id    TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    batches     TEXT    NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (producer_id, topic_id, partition)
) WITHOUT ROWID;
