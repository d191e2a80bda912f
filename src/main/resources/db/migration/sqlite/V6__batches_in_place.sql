-- Merging may keep a partition's batches where the WAL file holds them, when their stored headers carry
-- their final offsets already: it then replaces the one-batch rows by rows of consecutive batches, as
-- segment rows are, with final_headers = 1. A row with final_headers = 0 in a WAL file is one batch
-- whose offsets readers write in as they send it.
ALTER TABLE batches ADD COLUMN final_headers INTEGER NOT NULL DEFAULT 0;
