"""The operations tables (``ops.OpsLog``: session history, traces, admin accounts) on the
SQLite store.

Versioned on their own like the notification queue (``ops_meta`` row ``schema``):
``ensure_schema`` applies the steps inside one ``store.transaction()``. ``SQLiteOps(tx)``
runs the operations on the connection of an open transaction, so the engine's history
rows commit or roll back with the message that made them.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from typing import Any, Callable, Iterator, TypeVar

from gateway.store.base import Store, StoreError, StoreTransaction
from gateway.store.ops import (
    AUTH_FAILED, EXPIRED, LIVE, AdminAccount, DatastoreRecord, MessageRecord, SessionRecord, TraceEntry,
)
from gateway.store.sqlite.notifications import connection_of
from gateway.store.sqlite.tx import store_error

__all__ = ["SQLiteOpsStore", "SQLiteOps", "ensure_schema", "SCHEMA_STEPS"]

# Step N brings the tables from version N-1 to N; each step is a tuple of statements.
SCHEMA_STEPS: tuple[tuple[str, ...], ...] = ((
    """CREATE TABLE IF NOT EXISTS ops_sessions (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        key       TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        username  TEXT,
        peer      TEXT NOT NULL DEFAULT '',
        transport TEXT NOT NULL DEFAULT '',
        version   TEXT NOT NULL DEFAULT '',
        encoding  TEXT NOT NULL DEFAULT '',
        started   REAL NOT NULL,
        updated   REAL NOT NULL,
        expires   REAL NOT NULL,
        state     TEXT NOT NULL,
        messages  INTEGER NOT NULL DEFAULT 0,
        bytes_in  INTEGER NOT NULL DEFAULT 0,
        bytes_out INTEGER NOT NULL DEFAULT 0,
        detail    TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS ops_sessions_device ON ops_sessions (device_id, id)",
    "CREATE INDEX IF NOT EXISTS ops_sessions_live ON ops_sessions (expires) WHERE state = 'live'",
    """CREATE TABLE IF NOT EXISTS ops_messages (
        session_key TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        msg_id      TEXT NOT NULL,
        at          REAL NOT NULL,
        bytes_in    INTEGER NOT NULL,
        bytes_out   INTEGER NOT NULL,
        encoding    TEXT NOT NULL,
        codes_in    TEXT NOT NULL DEFAULT '',
        codes_out   TEXT NOT NULL DEFAULT '',
        resent      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_key, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS ops_results (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        session_key TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        username    TEXT NOT NULL,
        datastore   TEXT NOT NULL,
        mode        INTEGER NOT NULL,
        slow_reason TEXT,
        result      TEXT NOT NULL,
        started     REAL NOT NULL,
        finished    REAL NOT NULL,
        counts      TEXT NOT NULL DEFAULT '{}')""",
    "CREATE INDEX IF NOT EXISTS ops_results_device ON ops_results (device_id, datastore, id)",
    "CREATE INDEX IF NOT EXISTS ops_results_session ON ops_results (session_key)",
    """CREATE TABLE IF NOT EXISTS ops_trace_switch (
        device_id TEXT PRIMARY KEY,
        until     REAL NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS ops_traces (
        session_key TEXT NOT NULL,
        seq         INTEGER NOT NULL,
        direction   TEXT NOT NULL,
        at          REAL NOT NULL,
        text        TEXT NOT NULL,
        truncated   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_key, seq, direction)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS ops_admins (
        name    TEXT PRIMARY KEY,
        secret  TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL DEFAULT 0) WITHOUT ROWID""",
),)

_SESSION_COLUMNS = ("id, key, device_id, username, peer, transport, version, encoding, "
                    "started, updated, expires, state, messages, bytes_in, bytes_out, detail")
_RESULT_COLUMNS = ("session_key, device_id, username, datastore, mode, slow_reason, result, "
                   "started, finished, counts")

T = TypeVar("T")


def _sql(fn: Callable[..., T]) -> Callable[..., T]:
    @wraps(fn)
    def wrapper(*args: Any, **kw: Any) -> T:
        try:
            return fn(*args, **kw)
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
    return wrapper


def ensure_schema(store: Store) -> int:
    """Create or upgrade the operations tables; returns their version."""
    with store.transaction() as tx:
        conn = connection_of(tx)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS ops_meta"
                         " (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
            row = conn.execute("SELECT value FROM ops_meta WHERE key = 'schema'").fetchone()
            current = row[0] if row else 0
            if current > len(SCHEMA_STEPS):
                raise StoreError(f"operations tables have version {current}, newer than "
                                 f"this gateway knows ({len(SCHEMA_STEPS)})")
            for step in SCHEMA_STEPS[current:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute("INSERT INTO ops_meta (key, value) VALUES ('schema', ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (len(SCHEMA_STEPS),))
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
    return len(SCHEMA_STEPS)


def _codes(text: str) -> tuple[int, ...]:
    return tuple(int(c) for c in text.split(",") if c)


def _session(r: tuple) -> SessionRecord:
    return SessionRecord(id=r[0], key=r[1], device_id=r[2], username=r[3], peer=r[4],
                         transport=r[5], version=r[6], encoding=r[7], started=r[8],
                         updated=r[9], expires=r[10], state=r[11], messages=r[12],
                         bytes_in=r[13], bytes_out=r[14], detail=r[15])


def _result(r: tuple) -> DatastoreRecord:
    try:
        counts = {str(k): int(v) for k, v in json.loads(r[9]).items()}
    except (ValueError, TypeError, AttributeError):
        counts = {}
    return DatastoreRecord(session_key=r[0], device_id=r[1], username=r[2], datastore=r[3],
                           mode=r[4], slow_reason=r[5], result=r[6], started=r[7],
                           finished=r[8], counts=counts)


class SQLiteOpsStore:
    """``OpsStore`` in an SQLite store's database."""

    def __init__(self, store: Store):
        self.store = store

    def ensure_schema(self) -> int:
        return ensure_schema(self.store)

    @contextmanager
    def transaction(self) -> Iterator[tuple[StoreTransaction, "SQLiteOps"]]:
        with self.store.transaction() as tx:
            yield tx, SQLiteOps(tx)

    def on(self, tx: StoreTransaction) -> "SQLiteOps":
        return SQLiteOps(tx)


class SQLiteOps:
    """``OpsLog`` on the connection of one open SQLite store transaction."""

    def __init__(self, tx: Any):
        self._tx = tx

    @property
    def _db(self) -> sqlite3.Connection:
        return connection_of(self._tx)

    # -- sessions ------------------------------------------------------------------------
    @_sql
    def put_session(self, r: SessionRecord) -> None:
        self._db.execute(
            "INSERT INTO ops_sessions (key, device_id, username, peer, transport, version,"
            " encoding, started, updated, expires, state, messages, bytes_in, bytes_out,"
            " detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (key) DO UPDATE SET"
            " device_id = excluded.device_id, username = excluded.username,"
            " updated = excluded.updated, expires = excluded.expires, state = excluded.state,"
            " messages = excluded.messages, bytes_in = excluded.bytes_in,"
            " bytes_out = excluded.bytes_out, detail = excluded.detail",
            (r.key, r.device_id, r.username, r.peer, r.transport, r.version, r.encoding,
             r.started, r.updated, r.expires, r.state, r.messages, r.bytes_in, r.bytes_out,
             r.detail))

    @_sql
    def get_session(self, session_id: int) -> SessionRecord | None:
        row = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM ops_sessions WHERE id = ?",
                               (session_id,)).fetchone()
        return _session(row) if row else None

    @_sql
    def session_by_key(self, key: str) -> SessionRecord | None:
        row = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM ops_sessions WHERE key = ?",
                               (key,)).fetchone()
        return _session(row) if row else None

    @_sql
    def list_sessions(self, *, device_id: str | None = None, live: bool | None = None,
                      limit: int = 50) -> list[SessionRecord]:
        where, args = [], []
        if device_id is not None:
            where.append("device_id = ?")
            args.append(device_id)
        if live is not None:
            where.append("state = 'live'" if live else "state != 'live'")
        sql = f"SELECT {_SESSION_COLUMNS} FROM ops_sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_session(r) for r in rows]

    @_sql
    def expire_sessions(self, now: float) -> list[SessionRecord]:
        rows = self._db.execute(f"SELECT {_SESSION_COLUMNS} FROM ops_sessions"
                                " WHERE state = ? AND expires < ? ORDER BY id",
                                (LIVE, now)).fetchall()
        if rows:   # a session that never logged in and was refused: auth_failed
            self._db.execute("UPDATE ops_sessions SET state = CASE WHEN username IS NULL"
                             " AND detail != '' THEN ? ELSE ? END"
                             " WHERE state = ? AND expires < ?", (AUTH_FAILED, EXPIRED, LIVE, now))
        return [replace(_session(r), state=AUTH_FAILED if r[3] is None and r[15] else EXPIRED)
                for r in rows]

    # -- messages and results --------------------------------------------------------------
    @_sql
    def add_message(self, r: MessageRecord) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO ops_messages (session_key, seq, msg_id, at, bytes_in,"
            " bytes_out, encoding, codes_in, codes_out, resent) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (r.session_key, r.seq, r.msg_id, r.at, r.bytes_in, r.bytes_out, r.encoding,
             ",".join(map(str, r.codes_in)), ",".join(map(str, r.codes_out)), int(r.resent)))

    @_sql
    def list_messages(self, session_key: str, *, limit: int = 500) -> list[MessageRecord]:
        rows = self._db.execute(
            "SELECT session_key, seq, msg_id, at, bytes_in, bytes_out, encoding, codes_in,"
            " codes_out, resent FROM ops_messages WHERE session_key = ? ORDER BY seq LIMIT ?",
            (session_key, limit)).fetchall()
        return [MessageRecord(session_key=r[0], seq=r[1], msg_id=r[2], at=r[3], bytes_in=r[4],
                              bytes_out=r[5], encoding=r[6], codes_in=_codes(r[7]),
                              codes_out=_codes(r[8]), resent=bool(r[9])) for r in rows]

    @_sql
    def put_result(self, r: DatastoreRecord) -> None:
        self._db.execute(
            f"INSERT INTO ops_results ({_RESULT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (r.session_key, r.device_id, r.username, r.datastore, r.mode, r.slow_reason,
             r.result, r.started, r.finished, json.dumps(r.counts, sort_keys=True)))

    @_sql
    def last_results(self, device_id: str) -> list[DatastoreRecord]:
        rows = self._db.execute(
            f"SELECT {_RESULT_COLUMNS} FROM ops_results WHERE id IN (SELECT MAX(id) FROM"
            " ops_results WHERE device_id = ? GROUP BY datastore) ORDER BY datastore",
            (device_id,)).fetchall()
        return [_result(r) for r in rows]

    @_sql
    def session_results(self, session_key: str) -> list[DatastoreRecord]:
        rows = self._db.execute(f"SELECT {_RESULT_COLUMNS} FROM ops_results"
                                " WHERE session_key = ? ORDER BY id", (session_key,)).fetchall()
        return [_result(r) for r in rows]

    @_sql
    def prune(self, *, keep_sessions: int) -> int:
        db = self._db
        row = db.execute("SELECT id FROM ops_sessions WHERE state != ? ORDER BY id DESC"
                         " LIMIT 1 OFFSET ?", (LIVE, max(0, keep_sessions - 1))).fetchone()
        if row is None:
            return 0
        old = "(SELECT key FROM ops_sessions WHERE state != ? AND id < ?)"
        for table in ("ops_messages", "ops_traces"):
            db.execute(f"DELETE FROM {table} WHERE session_key IN {old}", (LIVE, row[0]))
        db.execute(f"DELETE FROM ops_results WHERE session_key IN {old} AND id NOT IN"
                   " (SELECT MAX(id) FROM ops_results GROUP BY device_id, datastore)",
                   (LIVE, row[0]))
        return db.execute("DELETE FROM ops_sessions WHERE state != ? AND id < ?",
                          (LIVE, row[0])).rowcount

    @_sql
    def counts(self) -> dict[str, int]:
        """The background snapshot: live sessions, devices, users, the queue by state."""
        db = self._db
        out = {"sessions.live": db.execute("SELECT COUNT(*) FROM ops_sessions WHERE state = ?",
                                           (LIVE,)).fetchone()[0],
               "devices": db.execute("SELECT COUNT(*) FROM devices").fetchone()[0],
               "users": db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]}
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                      " AND name = 'notifications'").fetchone():
            for state, n in db.execute("SELECT state, COUNT(*) FROM notifications"
                                       " GROUP BY state"):
                out[f"queue.{state}"] = n
        return out

    # -- traces --------------------------------------------------------------------------
    @_sql
    def set_trace(self, device_id: str, until: float | None) -> None:
        if until is None:
            self._db.execute("DELETE FROM ops_trace_switch WHERE device_id = ?", (device_id,))
        else:
            self._db.execute("INSERT OR REPLACE INTO ops_trace_switch (device_id, until)"
                             " VALUES (?, ?)", (device_id, until))

    @_sql
    def trace_until(self, device_id: str) -> float | None:
        row = self._db.execute("SELECT until FROM ops_trace_switch WHERE device_id = ?",
                               (device_id,)).fetchone()
        return row[0] if row else None

    @_sql
    def traced_devices(self, now: float) -> dict[str, float]:
        rows = self._db.execute("SELECT device_id, until FROM ops_trace_switch WHERE until > ?",
                                (now,)).fetchall()
        return {r[0]: r[1] for r in rows}

    @_sql
    def add_trace(self, e: TraceEntry, *, max_entries: int) -> bool:
        (count,) = self._db.execute("SELECT COUNT(*) FROM ops_traces WHERE session_key = ?",
                                    (e.session_key,)).fetchone()
        if count >= max_entries:
            return False
        self._db.execute("INSERT OR REPLACE INTO ops_traces (session_key, seq, direction, at,"
                         " text, truncated) VALUES (?,?,?,?,?,?)",
                         (e.session_key, e.seq, e.direction, e.at, e.text, int(e.truncated)))
        return True

    @_sql
    def list_traces(self, session_key: str) -> list[TraceEntry]:
        rows = self._db.execute(
            "SELECT session_key, seq, direction, at, text, truncated FROM ops_traces"
            " WHERE session_key = ? ORDER BY seq, direction", (session_key,)).fetchall()
        return [TraceEntry(session_key=r[0], seq=r[1], direction=r[2], at=r[3], text=r[4],
                           truncated=bool(r[5])) for r in rows]

    # -- admin accounts ------------------------------------------------------------------
    @_sql
    def get_admin(self, name: str) -> AdminAccount | None:
        row = self._db.execute("SELECT name, secret, enabled, created FROM ops_admins"
                               " WHERE name = ?", (name,)).fetchone()
        return AdminAccount(name=row[0], secret=row[1], enabled=bool(row[2]),
                            created=row[3]) if row else None

    @_sql
    def put_admin(self, a: AdminAccount) -> None:
        self._db.execute("INSERT OR REPLACE INTO ops_admins (name, secret, enabled, created)"
                         " VALUES (?,?,?,?)", (a.name, a.secret, int(a.enabled), a.created))

    @_sql
    def remove_admin(self, name: str) -> bool:
        return self._db.execute("DELETE FROM ops_admins WHERE name = ?", (name,)).rowcount > 0

    @_sql
    def list_admins(self) -> list[AdminAccount]:
        rows = self._db.execute("SELECT name, secret, enabled, created FROM ops_admins"
                                " ORDER BY name").fetchall()
        return [AdminAccount(name=r[0], secret=r[1], enabled=bool(r[2]), created=r[3])
                for r in rows]
