"""The embedded default store: SQLite through the standard library's ``sqlite3``.

The database runs in WAL mode with ``synchronous=NORMAL`` and foreign keys on. Each
thread that uses a store gets its own connection (the Twisted shell calls the engine
from a thread pool); ``transaction()`` is ``BEGIN IMMEDIATE`` ... ``COMMIT``, so writers
queue on the busy timeout instead of failing half-way. The operations themselves live in
``sqlite_tx.py``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from gateway.store import schema
from gateway.store.base import StoreError
from gateway.store.sqlite.notifications import SQLiteNotificationStore
from gateway.store.sqlite.ops import SQLiteOpsStore
from gateway.store.sqlite.tx import SQLiteTransaction, guid_for, id_for, store_error

__all__ = ["SQLiteStore", "SQLiteTransaction", "guid_for", "id_for"]


class _ThreadConnection:
    """One thread's connection; closed when the thread ends (its thread-local dies)."""

    __slots__ = ("conn", "active", "__weakref__")

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.active = False

    def __del__(self) -> None:
        with suppress(Exception):
            self.conn.close()


class SQLiteStore:
    """A Store on one SQLite file. ``":memory:"`` works only in the opening thread."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0):
        self._path = os.fspath(path)
        self._busy_timeout = busy_timeout
        self._memory = self._path == ":memory:"
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._threads: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._closed = False
        try:
            holder = self._thread_connection()
            holder.conn.execute("PRAGMA journal_mode = WAL").fetchall()
            self.schema_version = schema.upgrade_sqlite(holder.conn, schema.load_steps("sqlite"))
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(f"cannot open SQLite store {self._path!r}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    @property
    def path(self) -> str:
        return self._path

    def notifications(self) -> SQLiteNotificationStore:
        """The notification queue in this database (gateway/store/notifications.py)."""
        return SQLiteNotificationStore(self)

    def operations(self) -> SQLiteOpsStore:
        """Session history, traces and admin accounts (gateway/store/ops.py)."""
        return SQLiteOpsStore(self)

    def backup(self, target: str | Path) -> None:
        """A consistent copy of the database into the new file ``target`` while others
        keep reading and writing (SQLite's online backup; WAL readers are not blocked)."""
        if self._memory:
            raise StoreError("an in-memory store has no file to back up")
        holder = self._thread_connection()
        try:
            dest = sqlite3.connect(os.fspath(target))
            try:
                holder.conn.backup(dest)
            finally:
                dest.close()
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

    def _thread_connection(self) -> _ThreadConnection:
        holder: _ThreadConnection | None = getattr(self._local, "holder", None)
        if holder is not None:
            return holder
        if self._memory and threading.get_ident() != self._owner:
            raise StoreError("an in-memory SQLite store is usable only in the thread that opened it")
        conn = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None,
                               check_same_thread=False, cached_statements=256)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        holder = _ThreadConnection(conn)
        with self._lock:
            if self._closed:
                conn.close()
                raise StoreError("the store is closed")
            self._threads.add(holder)
        self._local.holder = holder
        return holder

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTransaction]:
        """BEGIN IMMEDIATE ... COMMIT; ROLLBACK when the block raises."""
        if self._closed:
            raise StoreError("the store is closed")
        try:
            holder = self._thread_connection()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self._path!r}: {exc}") from exc
        if holder.active:
            raise StoreError("nested store transaction: this thread already has one open")
        conn = holder.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
        holder.active = True
        tx = SQLiteTransaction(conn)
        try:
            yield tx
        except BaseException as exc:
            tx._conn = None
            holder.active = False
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise store_error(exc) from exc
            raise
        tx._conn = None
        holder.active = False
        if not conn.in_transaction:
            raise StoreError("SQLite rolled the transaction back after an error; nothing was stored")
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise store_error(exc) from exc

    def close(self) -> None:
        """Close every thread's connection. Call it once no thread uses the store."""
        with self._lock:
            self._closed = True
            holders = list(self._threads)
            self._threads.clear()
        for holder in holders:
            with suppress(sqlite3.Error):
                holder.conn.close()
