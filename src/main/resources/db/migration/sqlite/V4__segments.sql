-- Per-partition segment objects written by merging WAL objects (and rewritten by compaction). Their
-- batches carry final offsets; their index rows in batches each cover a run of batches (a chunk).
CREATE TABLE segments (
    object_key  TEXT    PRIMARY KEY,
    topic_id    TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    base_offset INTEGER NOT NULL,
    last_offset INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX segments_by_partition ON segments (topic_id, partition, base_offset);

-- Compaction's checkpoint: offsets below clean_offset have been compacted.
ALTER TABLE partitions ADD COLUMN clean_offset INTEGER NOT NULL DEFAULT 0;
