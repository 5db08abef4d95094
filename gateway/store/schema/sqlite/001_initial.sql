-- omads-gateway SQLite schema, step 1: the tables behind gateway/store/base.py.
-- Applied by gateway/store/schema.py inside one transaction with the other pending steps.

CREATE TABLE accounts (
    username  TEXT PRIMARY KEY,
    secret    TEXT NOT NULL,              -- B64(MD5("user:password"))
    enabled   INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    username  TEXT,
    nonce     BLOB NOT NULL DEFAULT x'',
    devinf    BLOB,
    last_seen REAL
);
CREATE INDEX devices_by_user ON devices (username);

-- One row per (user, datastore): its id keys the rows below, rev is its revision counter.
CREATE TABLE datastores (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    name      TEXT NOT NULL,
    rev       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (username, name)
);

-- One row per item, live or tombstone (deleted = 1, data emptied). The guid is derived
-- from id; AUTOINCREMENT keeps an id from ever being handed out twice.
CREATE TABLE items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ds_id        INTEGER NOT NULL REFERENCES datastores (id),
    rev          INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    uid          TEXT,
    changed_by   TEXT,
    modified     REAL NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL            -- last, so reading the columns above skips big values
);
CREATE UNIQUE INDEX items_by_rev ON items (ds_id, rev);          -- changes_since
CREATE INDEX items_live ON items (ds_id) WHERE deleted = 0;      -- list_items, count_items
CREATE INDEX items_by_uid ON items (ds_id, uid)
    WHERE deleted = 0 AND uid IS NOT NULL;                       -- find_by_uid

CREATE TABLE sync_states (
    device_id     TEXT NOT NULL,
    ds_id         INTEGER NOT NULL REFERENCES datastores (id),
    client_anchor TEXT,
    server_anchor TEXT,
    synced_rev    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, ds_id)
) WITHOUT ROWID;

-- A device's LUID -> our GUID map for one datastore.
CREATE TABLE id_maps (
    device_id TEXT NOT NULL,
    ds_id     INTEGER NOT NULL REFERENCES datastores (id),
    luid      TEXT NOT NULL,
    guid      TEXT NOT NULL,
    PRIMARY KEY (device_id, ds_id, luid)
) WITHOUT ROWID;

CREATE TABLE sessions (
    key       TEXT PRIMARY KEY,
    state     BLOB NOT NULL,
    expires   REAL NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires);

CREATE TABLE auth_failures (
    key       TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX auth_failures_by_key ON auth_failures (key, at);
