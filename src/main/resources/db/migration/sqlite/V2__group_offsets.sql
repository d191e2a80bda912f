-- Committed offsets of consumer groups, keyed by topic name as Kafka keys them.
CREATE TABLE group_offsets (
    group_id         TEXT    NOT NULL,
    topic            TEXT    NOT NULL,
    partition        INTEGER NOT NULL,
    committed_offset INTEGER NOT NULL,
    leader_epoch     INTEGER NOT NULL,
    metadata         TEXT,
    commit_ms        INTEGER NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
) WITHOUT ROWID;

CREATE INDEX group_offsets_by_topic ON group_offsets (topic);
