"""The notification queue (``notifications.NotificationQueue``) on the SQLite store.

Its tables live in the store's database but are versioned on their own (``notify_meta``
row ``schema``): ``ensure_schema(store)`` applies the steps below inside one
``store.transaction()`` (BEGIN IMMEDIATE, so two nodes starting at once apply each step
once; step 1 is all ``CREATE … IF NOT EXISTS``, step 2 adds the delivery-report columns).
They are not among the numbered files of ``schema/sqlite/``: those run when the store
opens, before these tables exist. ``SQLiteNotifications(tx)`` runs the operations on the
connection of an open transaction, so they commit or roll back with it;
``SQLiteNotificationStore(store)`` (what ``SQLiteStore.notifications()`` returns) is the
``NotificationStore`` the gateway uses, and the one place that builds them.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterator

from gateway.notify import dlr
from gateway.notify.dlr import Outcome, PartReport, Report
from gateway.store.base import Store, StoreError, StoreTransaction
from gateway.store.notifications import (
    DELIVERED, FAILED, QUEUED, SENT, Notification, NotifyDevice, merge_datastores, parse_route,
)
from gateway.store.sqlite.tx import store_error

__all__ = ["SQLiteNotificationStore", "SQLiteNotifications", "ensure_schema", "SCHEMA_STEPS"]

# Step N brings the notify tables from version N-1 to N.
SCHEMA_STEPS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS notifications (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id    TEXT NOT NULL,
        datastores   TEXT NOT NULL DEFAULT '',     -- names joined by LF; '' = all
        via          TEXT,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        created      REAL NOT NULL,
        updated      REAL NOT NULL,
        next_attempt REAL NOT NULL,
        lease_until  REAL,
        lease_owner  TEXT,
        route        TEXT,
        reason       TEXT,
        origin       TEXT NOT NULL DEFAULT 'admin'
    );
    CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next_attempt)
        WHERE state = 'queued';
    CREATE INDEX IF NOT EXISTS notifications_by_device ON notifications (device_id, state);
    CREATE TABLE IF NOT EXISTS notify_sends (
        at        REAL NOT NULL,
        device_id TEXT NOT NULL,
        kind      TEXT NOT NULL,
        sms_parts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS notify_sends_by_time ON notify_sends (at);
    CREATE INDEX IF NOT EXISTS notify_sends_by_device ON notify_sends (device_id, at);
    CREATE TABLE IF NOT EXISTS notify_devices (
        device_id       TEXT PRIMARY KEY,
        routes          TEXT NOT NULL DEFAULT '',  -- route strings joined by LF
        server_password TEXT,
        nonce           BLOB NOT NULL DEFAULT x'',
        form            TEXT NOT NULL DEFAULT 'auto'
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS notify_watermarks (
        device_id TEXT NOT NULL,
        username  TEXT NOT NULL,
        datastore TEXT NOT NULL,
        rev       INTEGER NOT NULL,
        PRIMARY KEY (device_id, username, datastore)
    ) WITHOUT ROWID;
    """,
    # 2: SMS delivery reports (gateway/notify/dlr.py). Steps run in BEGIN IMMEDIATE, so the
    # ALTERs run once even when two nodes start together.
    """
    ALTER TABLE notifications ADD COLUMN report_parts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notifications ADD COLUMN report_time REAL;
    ALTER TABLE notifications ADD COLUMN report TEXT;
    CREATE TABLE IF NOT EXISTS notify_reports (
        notification_id INTEGER NOT NULL,
        attempt         INTEGER NOT NULL,
        part            INTEGER NOT NULL,
        status          INTEGER NOT NULL,   -- Kannel report type (DLRType)
        answer          TEXT NOT NULL DEFAULT '',
        at              REAL NOT NULL,      -- Kannel's time, else when it arrived
        PRIMARY KEY (notification_id, attempt, part, status)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS notify_secrets (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
)

_COLUMNS = ("id, device_id, datastores, via, state, attempts, created, updated, next_attempt,"
            " route, reason, origin, report_parts, report_time, report")


def connection_of(tx: Any) -> sqlite3.Connection:
    """The connection behind an open ``SQLiteTransaction``."""
    conn = getattr(tx, "connection", None)
    if not isinstance(conn, sqlite3.Connection):
        raise StoreError("the notification queue needs an SQLite store transaction")
    return conn


def _statements(script: str) -> list[str]:
    """Split a script into statements (``executescript`` would commit the transaction)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        raise StoreError("incomplete statement in the notification schema")
    return out


def ensure_schema(store: Store) -> int:
    """Create or upgrade the notification tables; returns their version."""
    with store.transaction() as tx:
        conn = connection_of(tx)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS notify_meta"
                         " (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
            row = conn.execute("SELECT value FROM notify_meta WHERE key = 'schema'").fetchone()
            current = row[0] if row else 0
            if current > len(SCHEMA_STEPS):
                raise StoreError(f"notification tables have version {current}, newer than "
                                 f"this gateway knows ({len(SCHEMA_STEPS)})")
            for step in SCHEMA_STEPS[current:]:
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute("INSERT INTO notify_meta (key, value) VALUES ('schema', ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (len(SCHEMA_STEPS),))
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
    return len(SCHEMA_STEPS)


def _row(r: tuple) -> Notification:
    return Notification(id=r[0], device_id=r[1],
                        datastores=tuple(x for x in r[2].split("\n") if x), via=r[3],
                        state=r[4], attempts=r[5], created=r[6], updated=r[7],
                        next_attempt=r[8], route=r[9], reason=r[10], origin=r[11],
                        report_parts=r[12], report_time=r[13], report=r[14])


def _sql(method):
    def wrapper(self: "SQLiteNotifications", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class SQLiteNotificationStore:
    """``NotificationStore`` in an SQLite store's database."""

    def __init__(self, store: Store):
        self.store = store

    def ensure_schema(self) -> int:
        return ensure_schema(self.store)

    @contextmanager
    def transaction(self) -> Iterator[tuple[StoreTransaction, "SQLiteNotifications"]]:
        with self.store.transaction() as tx:
            yield tx, SQLiteNotifications(tx)


class SQLiteNotifications:
    """``NotificationQueue`` on the connection of one open SQLite store transaction."""

    def __init__(self, tx: Any):
        self._tx = tx

    @property
    def _db(self) -> sqlite3.Connection:
        return connection_of(self._tx)

    # -- the queue -------------------------------------------------------------------
    @_sql
    def enqueue(self, *, device_id: str, datastores: tuple[str, ...], via: str | None,
                now: float, origin: str = "admin") -> tuple[Notification, bool]:
        db = self._db
        row = db.execute(
            f"SELECT {_COLUMNS} FROM notifications WHERE device_id = ? AND via IS ?"
            " AND state = 'queued' AND (lease_until IS NULL OR lease_until < ?)"
            " ORDER BY id LIMIT 1", (device_id, via, now)).fetchone()
        if row is not None:
            old = _row(row)
            merged = merge_datastores(old.datastores, tuple(datastores))
            db.execute("UPDATE notifications SET datastores = ?, updated = ?,"
                       " next_attempt = MIN(next_attempt, ?) WHERE id = ?",
                       ("\n".join(merged), now, now, old.id))
            return self.get(old.id), False  # type: ignore[return-value]
        cur = db.execute(
            "INSERT INTO notifications (device_id, datastores, via, state, created, updated,"
            " next_attempt, origin) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
            (device_id, "\n".join(sorted(set(datastores))), via, now, now, now, origin))
        return self.get(cur.lastrowid), True  # type: ignore[return-value, arg-type]

    @_sql
    def get(self, notification_id: int) -> Notification | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM notifications WHERE id = ?",
                               (notification_id,)).fetchone()
        return None if row is None else _row(row)

    @_sql
    def list(self, *, device_id: str | None = None, limit: int = 50) -> list[Notification]:
        if device_id is None:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM notifications"
                                    " ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM notifications WHERE device_id = ?"
                                    " ORDER BY id DESC LIMIT ?", (device_id, limit))
        return [_row(r) for r in rows]

    @_sql
    def claim_due(self, now: float, *, owner: str, lease: float,
                  limit: int) -> list[Notification]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM notifications WHERE state = 'queued' AND next_attempt <= ?"
            " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt, id LIMIT ?",
            (now, now, limit)).fetchall()
        claimed = [_row(r) for r in rows]
        self._db.executemany(
            "UPDATE notifications SET lease_until = ?, lease_owner = ? WHERE id = ?",
            [(now + lease, owner, n.id) for n in claimed])
        return claimed

    def _finish(self, notification_id: int, sql: str, args: tuple) -> None:
        cur = self._db.execute(sql + ", lease_until = NULL, lease_owner = NULL WHERE id = ?",
                               args + (notification_id,))
        if cur.rowcount != 1:
            raise StoreError(f"no notification {notification_id}")

    @_sql
    def mark_sent(self, notification_id: int, *, now: float, route: str,
                  delivered: bool = False, detail: str | None = None,
                  report_parts: int = 0) -> None:
        self._finish(notification_id,
                     "UPDATE notifications SET state = ?, attempts = attempts + 1, updated = ?,"
                     " route = ?, reason = ?, report_parts = ?, report_time = NULL,"
                     " report = NULL", (DELIVERED if delivered else SENT, now, route, detail,
                                        report_parts))

    @_sql
    def mark_retry(self, notification_id: int, *, now: float, next_attempt: float,
                   reason: str, count_attempt: bool = True) -> Notification:
        self._finish(notification_id,
                     "UPDATE notifications SET state = ?, attempts = attempts + ?, updated = ?,"
                     " next_attempt = ?, reason = ?",
                     (QUEUED, int(count_attempt), now, next_attempt, reason))
        return self.get(notification_id)  # type: ignore[return-value]

    @_sql
    def mark_failed(self, notification_id: int, *, now: float, reason: str,
                    count_attempt: bool = True) -> None:
        self._finish(notification_id,
                     "UPDATE notifications SET state = ?, attempts = attempts + ?, updated = ?,"
                     " reason = ?", (FAILED, int(count_attempt), now, reason))

    # -- delivery reports -----------------------------------------------------------------
    @_sql
    def report_secret(self) -> bytes:
        self._db.execute("INSERT OR IGNORE INTO notify_secrets (name, value) VALUES"
                         " ('dlr', ?)", (secrets.token_bytes(32),))
        return bytes(self._db.execute("SELECT value FROM notify_secrets WHERE name = 'dlr'")
                     .fetchone()[0])

    @_sql
    def add_report(self, report: Report, *, received: float) -> str:
        n = self.get(report.notification_id)
        if n is None:
            return "unknown"
        # Reports may come before the send is recorded (attempt not yet counted).
        in_flight = n.state == QUEUED and report.attempt == n.attempts + 1
        if not in_flight and (report.attempt != n.attempts or n.state == QUEUED):
            return "stale"
        self._db.execute(
            "INSERT OR IGNORE INTO notify_reports (notification_id, attempt, part, status,"
            " answer, at) VALUES (?, ?, ?, ?, ?, ?)",
            (report.notification_id, report.attempt, report.part, report.status,
             report.answer, report.time if report.time is not None else received))
        return "recorded"

    @_sql
    def report_outcome(self, notification_id: int) -> Outcome | None:
        n = self.get(notification_id)
        if n is None or n.state != SENT or n.report_parts < 1:
            return None
        rows = self._db.execute("SELECT part, status, answer, at FROM notify_reports"
                                " WHERE notification_id = ? AND attempt = ?",
                                (notification_id, n.attempts)).fetchall()
        return dlr.outcome(n.report_parts, (PartReport(part=r[0], status=r[1], answer=r[2],
                                                    time=r[3]) for r in rows))

    @_sql
    def settle(self, notification_id: int, *, now: float, outcome: Outcome,
               retry_at: float | None = None) -> None:
        report = (outcome.summary, outcome.time)
        if outcome.state is None:
            self._db.execute("UPDATE notifications SET report = ?, report_time = ?"
                             " WHERE id = ?", report + (notification_id,))
        elif retry_at is not None:
            self._finish(notification_id,
                         "UPDATE notifications SET state = ?, updated = ?, next_attempt = ?,"
                         " reason = ?, report = ?, report_time = ?, report_parts = 0",
                         (QUEUED, now, retry_at, "delivery report: " + outcome.summary)
                         + report)
        else:
            self._finish(notification_id,
                         "UPDATE notifications SET state = ?, updated = ?, report = ?,"
                         " report_time = ?, reason = CASE WHEN ? THEN ? ELSE reason END",
                         (outcome.state, now) + report + (
                             outcome.state == FAILED, "delivery report: " + outcome.summary))

    @_sql
    def expire_reports(self, now: float, *, timeout: float, limit: int) -> list[Notification]:
        # The mark is a notify_reports row keyed by (id, attempt, part 0), so INSERT OR
        # IGNORE settles each attempt once however many nodes look; BEGIN IMMEDIATE
        # serialises this with the report callbacks.
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM notifications AS n WHERE state = 'sent'"
            " AND report_parts > 0 AND updated <= ? AND NOT EXISTS (SELECT 1 FROM"
            " notify_reports AS r WHERE r.notification_id = n.id AND r.attempt = n.attempts"
            " AND r.part = ? AND r.status = ?) ORDER BY updated, id LIMIT ?",
            (now - timeout, dlr.TIMEOUT_PART, dlr.TIMEOUT_STATUS, limit)).fetchall()
        settled = []
        for n in map(_row, rows):
            mark = dlr.timeout_mark(timeout, now)
            cur = self._db.execute(
                "INSERT OR IGNORE INTO notify_reports (notification_id, attempt, part, status,"
                " answer, at) VALUES (?, ?, ?, ?, ?, ?)",
                (n.id, n.attempts, mark.part, mark.status, mark.answer, mark.time))
            outcome = self.report_outcome(n.id)
            if cur.rowcount != 1 or outcome is None:
                continue
            self._db.execute("UPDATE notifications SET report = ? WHERE id = ?"
                             " AND state = 'sent'", (outcome.summary, n.id))
            settled.append(self.get(n.id))
        return settled

    # -- rate limits -------------------------------------------------------------------
    @_sql
    def record_send(self, *, device_id: str, kind: str, sms_parts: int, now: float) -> None:
        self._db.execute("INSERT INTO notify_sends (at, device_id, kind, sms_parts)"
                         " VALUES (?, ?, ?, ?)", (now, device_id, kind, sms_parts))

    @_sql
    def count_sends(self, *, since: float, device_id: str | None = None) -> int:
        if device_id is None:
            row = self._db.execute("SELECT COUNT(*) FROM notify_sends WHERE at >= ?",
                                   (since,)).fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM notify_sends WHERE device_id = ?"
                                   " AND at >= ?", (device_id, since)).fetchone()
        return row[0]

    @_sql
    def first_send_since(self, *, since: float, device_id: str) -> float | None:
        row = self._db.execute("SELECT MIN(at) FROM notify_sends WHERE device_id = ?"
                               " AND at >= ?", (device_id, since)).fetchone()
        return row[0]

    @_sql
    def sms_parts_since(self, since: float) -> int:
        row = self._db.execute("SELECT COALESCE(SUM(sms_parts), 0) FROM notify_sends"
                               " WHERE at >= ?", (since,)).fetchone()
        return row[0]

    # -- devices and watermarks ----------------------------------------------------------
    @_sql
    def get_device(self, device_id: str) -> NotifyDevice | None:
        row = self._db.execute("SELECT device_id, routes, server_password, nonce, form"
                               " FROM notify_devices WHERE device_id = ?",
                               (device_id,)).fetchone()
        if row is None:
            return None
        return NotifyDevice(device_id=row[0],
                            routes=tuple(parse_route(r) for r in row[1].split("\n") if r),
                            server_password=row[2], nonce=bytes(row[3]), form=row[4])

    @_sql
    def put_device(self, device: NotifyDevice) -> None:
        self._db.execute(
            "INSERT INTO notify_devices (device_id, routes, server_password, nonce, form)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET"
            " routes = excluded.routes, server_password = excluded.server_password,"
            " nonce = excluded.nonce, form = excluded.form",
            (device.device_id, "\n".join(map(str, device.routes)), device.server_password,
             bytes(device.nonce), device.form))

    @_sql
    def list_device_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT device_id FROM notify_devices ORDER BY device_id")]

    @_sql
    def get_watermark(self, device_id: str, username: str, datastore: str) -> int:
        row = self._db.execute("SELECT rev FROM notify_watermarks WHERE device_id = ?"
                               " AND username = ? AND datastore = ?",
                               (device_id, username, datastore)).fetchone()
        return 0 if row is None else row[0]

    @_sql
    def set_watermark(self, device_id: str, username: str, datastore: str, rev: int) -> None:
        self._db.execute("INSERT INTO notify_watermarks (device_id, username, datastore, rev)"
                         " VALUES (?, ?, ?, ?) ON CONFLICT (device_id, username, datastore)"
                         " DO UPDATE SET rev = excluded.rev",
                         (device_id, username, datastore, rev))

