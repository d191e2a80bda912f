-- The brokers that registered under a node id: the running instance holding it, where clients reach it,
-- its rack, and its last heartbeat (ms since the epoch, by its clock).
CREATE TABLE brokers (
    node_id      integer PRIMARY KEY,
    instance_id  text    NOT NULL,
    host         text    NOT NULL,
    port         integer NOT NULL,
    rack         text,
    heartbeat_ms bigint  NOT NULL
);
