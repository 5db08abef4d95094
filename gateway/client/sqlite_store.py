"""A SQLite database as a local store: table ``items`` (luid, content_type, data).

Other programs may edit ``items`` directly; changes are found by comparing content hashes
with table ``synced`` (tracking.py), as for the folder store. The client state (anchors,
maps, nonces) can live in table ``state`` of the same file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.client.tracking import content_hash, diff
from gateway.ds.client.errors import LocalStoreError
from gateway.ds.client.store import Change

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (luid TEXT PRIMARY KEY, content_type TEXT NOT NULL,
                                  data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS synced (luid TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL);
"""


class SQLiteItemStore:
    def __init__(self, path: Path | str, content_type: str = "text/vcard"):
        self.path = Path(path)
        self.content_type = content_type
        try:
            self.db = sqlite3.connect(str(self.path))
            self.db.executescript(SCHEMA)
            if self.db.execute("SELECT COUNT(*) FROM counter").fetchone()[0] == 0:
                self.db.execute("INSERT INTO counter VALUES (0)")
            self.db.commit()
        except sqlite3.Error as exc:
            raise LocalStoreError(f"{self.path}: {exc}") from None

    def _q(self, sql: str, args: tuple = ()):
        try:
            return self.db.execute(sql, args)
        except sqlite3.Error as exc:
            raise LocalStoreError(f"{self.path}: {exc}") from None

    def flush(self) -> None:
        try:
            self.db.commit()
        except sqlite3.Error as exc:
            raise LocalStoreError(f"{self.path}: {exc}") from None

    def close(self) -> None:
        self.flush()
        self.db.close()

    # -- LocalStore ----------------------------------------------------------------------
    def luids(self) -> list[str]:
        return [r[0] for r in self._q("SELECT luid FROM items ORDER BY luid")]

    def changes(self) -> list[Change]:
        synced = dict(self._q("SELECT luid, hash FROM synced").fetchall())
        rows = self._q("SELECT luid, data FROM items ORDER BY luid").fetchall()
        return diff(((luid, content_hash(bytes(data))) for luid, data in rows), synced)

    def read(self, luid: str) -> bytes | None:
        row = self._q("SELECT data FROM items WHERE luid = ?", (luid,)).fetchone()
        return bytes(row[0]) if row else None

    def put(self, luid: str, data: bytes, content_type: str | None = None) -> None:
        """Write an item as a user would (it becomes a local change)."""
        self._q("INSERT OR REPLACE INTO items VALUES (?, ?, ?)",
                (luid, content_type or self.content_type, data))

    def remove(self, luid: str) -> None:
        self._q("DELETE FROM items WHERE luid = ?", (luid,))

    def add(self, data: bytes, content_type: str) -> str:
        while True:
            self._q("UPDATE counter SET n = n + 1")
            n = self._q("SELECT n FROM counter").fetchone()[0]
            luid = f"s{n:06d}"
            if self.read(luid) is None:
                break
        self._q("INSERT INTO items VALUES (?, ?, ?)", (luid, content_type, data))
        self._set_synced(luid, data)
        return luid

    def _set_synced(self, luid: str, data: bytes) -> None:
        self._q("INSERT OR REPLACE INTO synced VALUES (?, ?)", (luid, content_hash(data)))

    def replace(self, luid: str, data: bytes, content_type: str) -> bool:
        cur = self._q("UPDATE items SET data = ?, content_type = ? WHERE luid = ?",
                      (data, content_type, luid))
        if cur.rowcount == 0:
            return False
        self._set_synced(luid, data)
        return True

    def delete(self, luid: str) -> bool:
        self.forget(luid)
        return self._q("DELETE FROM items WHERE luid = ?", (luid,)).rowcount > 0

    def mark_synced(self, luid: str) -> None:
        data = self.read(luid)
        if data is not None:
            self._set_synced(luid, data)

    def forget(self, luid: str) -> None:
        self._q("DELETE FROM synced WHERE luid = ?", (luid,))

    # -- client state ------------------------------------------------------------------
    def load_state(self) -> bytes | None:
        row = self._q("SELECT value FROM state WHERE key = 'client'").fetchone()
        return bytes(row[0]) if row else None

    def save_state(self, data: bytes) -> None:
        self._q("INSERT OR REPLACE INTO state VALUES ('client', ?)", (data,))
        self.flush()
