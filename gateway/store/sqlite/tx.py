"""The operations of one SQLite store transaction (``base.StoreTransaction``).

Every (user, datastore) is a row of ``datastores`` holding its revision counter; an add,
replace or delete advances it in the same statement batch, and a delete leaves a tombstone
row, so ``changes_since`` is one indexed range scan. A guid is the item's row id prefixed
with a letter giving its digit count, so text order equals creation order.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterable, Iterator

from gateway.store.base import Account, Change, Device, Item, NotFound, StoreError
from gateway.store.sqlite.errors import operation as _operation
from gateway.store.sqlite.errors import store_error
from gateway.store.sqlite.maps import MapOperations

__all__ = ["SQLiteTransaction", "guid_for", "id_for", "store_error"]


_PAGE = 500  # rows per query when list_items walks a datastore
_ITEM_COLUMNS = "id, rev, uid, changed_by, modified, content_type, data"

_SAVEPOINT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}\Z")


def guid_for(item_id: int) -> str:
    """``7 -> "a7"``, ``42 -> "b42"``, ``1000 -> "d1000"``: short, and sorted like the ids."""
    digits = str(item_id)
    return chr(ord("a") + len(digits) - 1) + digits


def id_for(guid: str) -> int | None:
    """The row id behind a guid made by ``guid_for``; None for any other string."""
    digits = guid[1:]
    if (len(digits) < 1 or len(digits) > 26 or guid[0] != chr(ord("a") + len(digits) - 1)
            or not (digits.isascii() and digits.isdigit()) or digits[0] == "0"):
        return None
    return int(digits)


class SQLiteTransaction(MapOperations):
    """The operations of ``base.StoreTransaction`` on one connection inside BEGIN...COMMIT
    (sync states and ID maps: ``sqlite_maps.MapOperations``)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn: sqlite3.Connection | None = conn
        self._ds_ids: dict[tuple[str, str], int] = {}
        self._savepoints: list[tuple[str, dict[tuple[str, str], int]]] = []  # name, _ds_ids

    def _check(self) -> None:
        if self._conn is None:
            raise StoreError("store transaction used after its block ended")
        if not self._conn.in_transaction:  # SQLite may roll back by itself after SQLITE_FULL etc.
            raise StoreError("SQLite rolled the transaction back after an error; nothing was stored")

    @property
    def connection(self) -> sqlite3.Connection:
        """The open transaction's connection, for store modules that keep their own
        tables in the same database (e.g. the notification queue)."""
        self._check()
        assert self._conn is not None
        return self._conn

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def _ds(self, username: str, datastore: str, *, create: bool = False) -> int | None:
        """The datastores row id of (user, datastore); made on first write."""
        key = (username, datastore)
        ds_id = self._ds_ids.get(key)
        if ds_id is None:
            row = self._db.execute(
                "SELECT id FROM datastores WHERE username = ? AND name = ?", key).fetchone()
            if row is not None:
                ds_id = row[0]
            elif create:
                ds_id = self._db.execute(
                    "INSERT INTO datastores (username, name) VALUES (?, ?)", key).lastrowid
            else:
                return None
            self._ds_ids[key] = ds_id
        return ds_id

    # -- accounts ------------------------------------------------------------------
    @_operation
    def get_account(self, username: str) -> Account | None:
        row = self._db.execute("SELECT username, secret, enabled FROM accounts WHERE username = ?",
                               (username,)).fetchone()
        return None if row is None else Account(username=row[0], secret=row[1], enabled=bool(row[2]))

    @_operation
    def put_account(self, account: Account) -> None:
        self._db.execute(
            "INSERT INTO accounts (username, secret, enabled) VALUES (?, ?, ?) ON CONFLICT (username)"
            " DO UPDATE SET secret = excluded.secret, enabled = excluded.enabled",
            (account.username, account.secret, int(account.enabled)))

    @_operation
    def remove_account(self, username: str) -> bool:
        return self._db.execute("DELETE FROM accounts WHERE username = ?", (username,)).rowcount > 0

    @_operation
    def list_accounts(self) -> list[Account]:
        rows = self._db.execute("SELECT username, secret, enabled FROM accounts ORDER BY username")
        return [Account(username=u, secret=s, enabled=bool(e)) for u, s, e in rows]

    # -- devices ---------------------------------------------------------------------
    _DEVICE = "SELECT device_id, username, nonce, devinf, last_seen FROM devices"

    @_operation
    def get_device(self, device_id: str) -> Device | None:
        row = self._db.execute(self._DEVICE + " WHERE device_id = ?", (device_id,)).fetchone()
        return None if row is None else _device(row)

    @_operation
    def put_device(self, device: Device) -> None:
        self._db.execute(
            "INSERT INTO devices (device_id, username, nonce, devinf, last_seen) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id) DO UPDATE SET username = excluded.username,"
            " nonce = excluded.nonce, devinf = excluded.devinf, last_seen = excluded.last_seen",
            (device.device_id, device.username, bytes(device.nonce),
             None if device.devinf is None else bytes(device.devinf), device.last_seen))

    @_operation
    def list_devices(self, username: str | None = None) -> list[Device]:
        if username is None:
            rows = self._db.execute(self._DEVICE + " ORDER BY device_id")
        else:
            rows = self._db.execute(self._DEVICE + " WHERE username = ? ORDER BY device_id", (username,))
        return [_device(row) for row in rows]

    # -- items -------------------------------------------------------------------------
    @_operation
    def get_item(self, username: str, datastore: str, guid: str) -> Item | None:
        ds_id, item_id = self._ds(username, datastore), id_for(guid)
        if ds_id is None or item_id is None:
            return None
        row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ? AND ds_id = ?"
                               " AND deleted = 0", (item_id, ds_id)).fetchone()
        return None if row is None else _item(row)

    @_operation
    def add_item(self, username: str, datastore: str, *, data: bytes, content_type: str,
                 uid: str | None = None, changed_by: str | None = None, now: float = 0.0,
                 fingerprint: str | None = None) -> Item:
        ds_id = self._ds(username, datastore, create=True)
        data = bytes(data)
        [(rev,)] = self._db.execute(
            "UPDATE datastores SET rev = rev + 1 WHERE id = ? RETURNING rev", (ds_id,)).fetchall()
        item_id = self._db.execute(
            "INSERT INTO items (ds_id, rev, uid, changed_by, modified, content_type, data,"
            " fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ds_id, rev, uid, changed_by, now, content_type, data, fingerprint)).lastrowid
        return Item(guid=guid_for(item_id), data=data, content_type=content_type, rev=rev, uid=uid,
                    changed_by=changed_by, modified=float(now))

    @_operation
    def replace_item(self, username: str, datastore: str, guid: str, *, data: bytes,
                     content_type: str, uid: str | None = None,
                     changed_by: str | None = None, now: float = 0.0,
                     fingerprint: str | None = None) -> Item:
        ds_id, item_id = self._ds(username, datastore), id_for(guid)
        data = bytes(data)
        rows = [] if ds_id is None or item_id is None else self._db.execute(
            "UPDATE items SET rev = (SELECT rev + 1 FROM datastores WHERE id = :ds), uid = :uid,"
            " changed_by = :by, modified = :now, content_type = :ct, data = :data, fingerprint = :fp"
            " WHERE id = :id AND ds_id = :ds AND deleted = 0 RETURNING rev",
            {"ds": ds_id, "uid": uid, "by": changed_by, "now": now, "ct": content_type,
             "data": data, "id": item_id, "fp": fingerprint}).fetchall()
        if not rows:
            raise NotFound(f"no item {guid!r} in {username}/{datastore}")
        self._db.execute("UPDATE datastores SET rev = rev + 1 WHERE id = ?", (ds_id,))
        return Item(guid=guid, data=data, content_type=content_type, rev=rows[0][0], uid=uid,
                    changed_by=changed_by, modified=float(now))

    @_operation
    def delete_item(self, username: str, datastore: str, guid: str, *,
                    changed_by: str | None = None, now: float = 0.0) -> bool:
        ds_id, item_id = self._ds(username, datastore), id_for(guid)
        if ds_id is None or item_id is None:
            return False
        done = self._db.execute(
            "UPDATE items SET rev = (SELECT rev + 1 FROM datastores WHERE id = :ds), deleted = 1,"
            " changed_by = :by, modified = :now, data = x'', fingerprint = NULL"
            " WHERE id = :id AND ds_id = :ds AND deleted = 0",
            {"ds": ds_id, "by": changed_by, "now": now, "id": item_id}).rowcount
        if done:
            self._db.execute("UPDATE datastores SET rev = rev + 1 WHERE id = ?", (ds_id,))
        return done > 0

    @_operation
    def delete_all(self, username: str, datastore: str, *, changed_by: str | None = None,
                   now: float = 0.0) -> int:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return 0
        ids = [r[0] for r in self._db.execute(
            "SELECT id FROM items WHERE ds_id = ? AND deleted = 0 ORDER BY id", (ds_id,))]
        if not ids:
            return 0
        [(first,)] = self._db.execute(
            "UPDATE datastores SET rev = rev + ? WHERE id = ? RETURNING rev - ?",
            (len(ids), ds_id, len(ids) - 1)).fetchall()
        self._db.executemany(
            "UPDATE items SET rev = ?, deleted = 1, changed_by = ?, modified = ?, data = x'',"
            " fingerprint = NULL WHERE id = ?", ((first + n, changed_by, now, i) for n, i in enumerate(ids)))
        return len(ids)

    @_operation
    def list_items(self, username: str, datastore: str) -> Iterator[Item]:
        ds_id = self._ds(username, datastore)
        return iter(()) if ds_id is None else self._walk_items(ds_id)

    def _walk_items(self, ds_id: int) -> Iterator[Item]:
        after = 0
        while True:
            self._check()
            try:
                rows = self._db.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM items WHERE ds_id = ? AND deleted = 0 AND id > ?"
                    " ORDER BY id LIMIT ?", (ds_id, after, _PAGE)).fetchall()
            except sqlite3.Error as exc:
                raise store_error(exc) from exc
            for row in rows:
                yield _item(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    @_operation
    def list_guids(self, username: str, datastore: str, *, after: str | None = None,
                   limit: int | None = None) -> list[str]:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return []
        start = 0 if after is None else id_for(after)
        if start is None:
            raise StoreError(f"{after!r} is not a guid of this store")
        rows = self._db.execute("SELECT id FROM items WHERE ds_id = ? AND deleted = 0 AND id > ?"
                                " ORDER BY id LIMIT ?", (ds_id, start, -1 if limit is None else limit))
        return [guid_for(i) for (i,) in rows]

    @_operation
    def count_items(self, username: str, datastore: str) -> int:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return 0
        return self._db.execute("SELECT count(*) FROM items WHERE ds_id = ? AND deleted = 0",
                                (ds_id,)).fetchone()[0]

    @_operation
    def find_by_uid(self, username: str, datastore: str, uid: str) -> Item | None:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return None
        row = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE ds_id = ? AND uid = ?"
                               " AND deleted = 0 ORDER BY id LIMIT 1", (ds_id, uid)).fetchone()
        return None if row is None else _item(row)

    @_operation
    def find_by_fingerprint(self, username: str, datastore: str, fingerprint: str) -> list[str]:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return []
        rows = self._db.execute("SELECT id FROM items WHERE ds_id = ? AND fingerprint = ?"
                                " AND deleted = 0 ORDER BY id", (ds_id, fingerprint))
        return [guid_for(i) for (i,) in rows]

    @_operation
    def list_items_without_fingerprint(self, username: str, datastore: str, *,
                                       limit: int | None = None) -> list[Item]:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return []
        return [_item(row) for row in self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE ds_id = ? AND fingerprint IS NULL"
            " AND deleted = 0 ORDER BY id LIMIT ?", (ds_id, -1 if limit is None else limit))]

    @_operation
    def set_fingerprints(self, username: str, datastore: str,
                         pairs: Iterable[tuple[str, str]]) -> None:
        ds_id = self._ds(username, datastore)
        if ds_id is not None:
            rows = [(fp, id_for(guid), ds_id) for guid, fp in pairs]
            self._db.executemany(
                "UPDATE items SET fingerprint = ? WHERE id = ? AND ds_id = ? AND deleted = 0",
                [row for row in rows if row[1] is not None])

    @_operation
    def changes_since(self, username: str, datastore: str, rev: int) -> list[Change]:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return []
        rows = self._db.execute("SELECT id, rev, deleted, changed_by FROM items"
                                " WHERE ds_id = ? AND rev > ? ORDER BY rev", (ds_id, rev))
        return [Change(guid=guid_for(i), rev=r, deleted=bool(d), changed_by=by) for i, r, d, by in rows]

    @_operation
    def current_rev(self, username: str, datastore: str) -> int:
        row = self._db.execute("SELECT rev FROM datastores WHERE username = ? AND name = ?",
                               (username, datastore)).fetchone()
        return 0 if row is None else row[0]

    # -- savepoints (SQLite SAVEPOINT / RELEASE / ROLLBACK TO inside BEGIN ... COMMIT) ------
    # The datastores-row cache rolls back with them: a row made after a savepoint is gone
    # once we roll back to it.
    @_operation
    def savepoint(self, name: str) -> None:
        self._db.execute(f'SAVEPOINT "{_savepoint_name(name)}"')
        self._savepoints.append((name, dict(self._ds_ids)))

    @_operation
    def release(self, name: str) -> None:
        self._db.execute(f'RELEASE SAVEPOINT "{_savepoint_name(name)}"')
        del self._savepoints[self._find_savepoint(name):]

    @_operation
    def rollback_to(self, name: str) -> None:
        self._db.execute(f'ROLLBACK TO SAVEPOINT "{_savepoint_name(name)}"')
        at = self._find_savepoint(name)
        self._ds_ids = dict(self._savepoints[at][1])
        del self._savepoints[at + 1:]

    def _find_savepoint(self, name: str) -> int:
        for at in range(len(self._savepoints) - 1, -1, -1):
            if self._savepoints[at][0] == name:
                return at
        raise StoreError(f"no savepoint {name!r}")     # SQLite refused it already

    # -- sessions ------------------------------------------------------------------------
    @_operation
    def load_session(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT state FROM sessions WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    @_operation
    def save_session(self, key: str, state: bytes, *, expires: float) -> None:
        self._db.execute(
            "INSERT INTO sessions (key, state, expires) VALUES (?, ?, ?) ON CONFLICT (key)"
            " DO UPDATE SET state = excluded.state, expires = excluded.expires",
            (key, bytes(state), expires))

    @_operation
    def delete_session(self, key: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE key = ?", (key,))

    @_operation
    def expire_sessions(self, now: float) -> int:
        """Delete the sessions whose ``expires`` is at or before ``now``."""
        return self._db.execute("DELETE FROM sessions WHERE expires <= ?", (now,)).rowcount

    # -- failed-login throttling -----------------------------------------------------------
    @_operation
    def record_auth_failure(self, key: str, now: float) -> None:
        self._db.execute("INSERT INTO auth_failures (key, at) VALUES (?, ?)", (key, now))

    @_operation
    def count_auth_failures(self, key: str, since: float) -> int:
        return self._db.execute("SELECT count(*) FROM auth_failures WHERE key = ? AND at >= ?",
                                (key, since)).fetchone()[0]

    @_operation
    def clear_auth_failures(self, key: str) -> None:
        self._db.execute("DELETE FROM auth_failures WHERE key = ?", (key,))


def _savepoint_name(name: str) -> str:
    if not isinstance(name, str) or not _SAVEPOINT_NAME.match(name):
        raise StoreError(f"bad savepoint name {name!r}")
    return name


def _device(row: tuple) -> Device:
    return Device(device_id=row[0], username=row[1], nonce=row[2], devinf=row[3], last_seen=row[4])


def _item(row: tuple) -> Item:
    item_id, rev, uid, changed_by, modified, content_type, data = row
    return Item(guid=guid_for(item_id), data=data, content_type=content_type, rev=rev, uid=uid,
                changed_by=changed_by, modified=modified)
