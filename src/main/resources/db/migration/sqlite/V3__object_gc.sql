-- When an object was first seen with no batch referring to it; it is deleted a grace period later,
-- so a read that located a batch just before it was dropped can still finish.
ALTER TABLE objects ADD COLUMN unreferenced_since_ms INTEGER;
