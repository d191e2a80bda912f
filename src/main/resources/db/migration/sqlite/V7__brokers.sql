-- The brokers that registered under a node id: the running instance holding it, where clients reach it,
-- its rack, and its last heartbeat (ms since the epoch, by its clock).
CREATE TABLE brokers (
    node_id      INTEGER PRIMARY KEY,
    instance_id  TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    port         INTEGER NOT NULL,
    rack         TEXT,
    heartbeat_ms INTEGER NOT NULL
);
