-- WAL objects are written one after another into WAL files; objects.size of a WAL file is where its
-- last committed object ends and objects.created_ms when that object was committed. last_wal_file is
-- the newest WAL file that ever had an object committed, kept when the file itself is deleted: start-up
-- commits again the objects written after it (and after the committed end of that file), whose commits
-- a power failure may have taken.
ALTER TABLE cluster ADD COLUMN last_wal_file TEXT;
