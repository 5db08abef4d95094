-- omads-gateway SQLite schema, step 2: a content fingerprint per item (slow-sync pairing).
-- The engine computes it (gateway/ds/contentops.py); NULL = not known yet (items written
-- before this step, or by a writer that gave none): the engine fills those in.

ALTER TABLE items ADD COLUMN fingerprint TEXT;
CREATE INDEX items_by_fingerprint ON items (ds_id, fingerprint)
    WHERE deleted = 0 AND fingerprint IS NOT NULL;                -- find_by_fingerprint
CREATE INDEX items_without_fingerprint ON items (ds_id)
    WHERE deleted = 0 AND fingerprint IS NULL;                    -- list_items_without_fingerprint
