-- omads-gateway SQLite schema, step 3: the base of three-way merges.
-- Per ID-map row, the item's content as the device and we last agreed on it (what the
-- device sent and we applied, or what we sent and it acknowledged), uncompressed;
-- NULL = not known (rows written before this step, slow-sync pairs that differed).
-- Removing the map row (the item deleted) drops it.

ALTER TABLE id_maps ADD COLUMN base BLOB;
