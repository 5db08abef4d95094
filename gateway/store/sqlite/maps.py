"""Sync states and ID maps of one SQLite store transaction (a mixin of
``sqlite_tx.SQLiteTransaction``).

An ID-map row maps a device's LUID to our GUID for one datastore and carries the
merge base: the item's content as the device and we last agreed on it (NULL:
unknown). Remapping a LUID to another GUID drops its base. Bases are stored as they
are: zlib saved ~20% on typical vCards but tripled the cost of writing a row, and a row
is written for every item a client sends (bench figures in the merge-base report).
"""

from __future__ import annotations

from typing import Iterable

from gateway.store.base import SyncState
from gateway.store.sqlite.errors import operation

__all__ = ["MapOperations"]

def _blob(base: bytes | None) -> bytes | None:
    return None if base is None else bytes(base)


class MapOperations:
    """Needs ``self._db`` (the connection) and ``self._ds(username, datastore, create=)``."""

    @operation
    def get_sync_state(self, device_id: str, username: str, datastore: str) -> SyncState | None:
        ds_id = self._ds(username, datastore)
        row = None if ds_id is None else self._db.execute(
            "SELECT client_anchor, server_anchor, synced_rev FROM sync_states"
            " WHERE device_id = ? AND ds_id = ?", (device_id, ds_id)).fetchone()
        if row is None:
            return None
        return SyncState(device_id=device_id, username=username, datastore=datastore,
                         client_anchor=row[0], server_anchor=row[1], synced_rev=row[2])

    @operation
    def put_sync_state(self, state: SyncState) -> None:
        ds_id = self._ds(state.username, state.datastore, create=True)
        self._db.execute(
            "INSERT INTO sync_states (device_id, ds_id, client_anchor, server_anchor, synced_rev)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, ds_id) DO UPDATE SET"
            " client_anchor = excluded.client_anchor, server_anchor = excluded.server_anchor,"
            " synced_rev = excluded.synced_rev",
            (state.device_id, ds_id, state.client_anchor, state.server_anchor, state.synced_rev))

    @operation
    def get_map(self, device_id: str, username: str, datastore: str,
                luids: Iterable[str] | None = None) -> dict[str, str]:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return {}
        if luids is None:
            return dict(self._db.execute(
                "SELECT luid, guid FROM id_maps WHERE device_id = ? AND ds_id = ?", (device_id, ds_id)))
        found = {}
        for luid in luids:
            row = self._db.execute("SELECT guid FROM id_maps WHERE device_id = ? AND ds_id = ?"
                                   " AND luid = ?", (device_id, ds_id, luid)).fetchone()
            if row is not None:
                found[luid] = row[0]
        return found

    @operation
    def put_mappings(self, device_id: str, username: str, datastore: str,
                     pairs: Iterable[tuple[str, str]]) -> None:
        ds_id = self._ds(username, datastore, create=True)
        self._db.executemany(
            "INSERT INTO id_maps (device_id, ds_id, luid, guid) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (device_id, ds_id, luid) DO UPDATE SET guid = excluded.guid,"
            " base = CASE WHEN guid = excluded.guid THEN base END",
            ((device_id, ds_id, luid, guid) for luid, guid in pairs))

    @operation
    def put_bases(self, device_id: str, username: str, datastore: str,
                  entries: Iterable[tuple[str, str, bytes | None]]) -> None:
        ds_id = self._ds(username, datastore, create=True)
        self._db.executemany(
            "INSERT INTO id_maps (device_id, ds_id, luid, guid, base) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (device_id, ds_id, luid) DO UPDATE SET guid = excluded.guid,"
            " base = excluded.base",
            ((device_id, ds_id, luid, guid, _blob(base)) for luid, guid, base in entries))

    @operation
    def get_base(self, device_id: str, username: str, datastore: str, luid: str,
                 guid: str) -> bytes | None:
        ds_id = self._ds(username, datastore)
        row = None if ds_id is None else self._db.execute(
            "SELECT base FROM id_maps WHERE device_id = ? AND ds_id = ? AND luid = ?"
            " AND guid = ?", (device_id, ds_id, luid, guid)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    @operation
    def remove_mappings(self, device_id: str, username: str, datastore: str,
                        luids: Iterable[str]) -> None:
        ds_id = self._ds(username, datastore)
        if ds_id is not None:
            self._db.executemany("DELETE FROM id_maps WHERE device_id = ? AND ds_id = ? AND luid = ?",
                                 ((device_id, ds_id, luid) for luid in luids))

    @operation
    def clear_map(self, device_id: str, username: str, datastore: str) -> None:
        ds_id = self._ds(username, datastore)
        if ds_id is not None:
            self._db.execute("DELETE FROM id_maps WHERE device_id = ? AND ds_id = ?", (device_id, ds_id))

    @operation
    def move_map(self, from_device: str, to_device: str, username: str,
                 datastore: str) -> int:
        ds_id = self._ds(username, datastore)
        if ds_id is None:
            return 0
        self._db.execute("DELETE FROM id_maps WHERE device_id = ? AND ds_id = ?",
                         (to_device, ds_id))
        return self._db.execute("UPDATE id_maps SET device_id = ? WHERE device_id = ?"
                                " AND ds_id = ?", (to_device, from_device, ds_id)).rowcount
