"""The store interface the DS engine talks to, and the values it exchanges.

The engine calls a store in batches: one ``Store.transaction()`` per SyncML message, so a
message that fails half-way rolls back as a whole. Drivers (``sqlite``, ``postgres``,
``dav``) block; the Twisted shell runs the engine in a bounded thread pool. Every driver
passes the one conformance suite in ``tests/store/conformance.py``.

Items belong to (user, datastore); each (user, datastore) has a revision counter that
every add/replace/delete advances, and deletes leave a tombstone, so "what changed since
revision N" is one query. ``changed_by`` records which device made the latest change,
so the engine does not echo a device's own changes back to it. ``fingerprint`` is an
opaque digest of an item's content the engine computes (items with equal fingerprints are
candidates for slow-sync pairing); the store only keeps and indexes it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol


class StoreError(Exception):
    """A store failure. ``status`` is the SyncML status the engine reports for it."""

    status = 510  # Data store failure


class NotFound(StoreError):
    status = 404


class AlreadyExists(StoreError):
    status = 418


class StoreFull(StoreError):
    status = 420


# One table maps store errors to SyncML status codes (DESIGN: "store errors map to status
# codes through one table").
STATUS_FOR_ERROR: dict[type[StoreError], int] = {
    StoreError: 510,
    NotFound: 404,
    AlreadyExists: 418,
    StoreFull: 420,
}


def status_for(exc: StoreError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_FOR_ERROR:
            return STATUS_FOR_ERROR[cls]
    return 510


@dataclass(frozen=True, kw_only=True)
class Account:
    """A user. ``secret`` is B64(MD5("user:password")): what auth-basic, auth-md5 and
    HMAC all need, so the plain password is never stored."""

    username: str
    secret: str
    enabled: bool = True


@dataclass(frozen=True, kw_only=True)
class Device:
    """A remote device (a handset, or a server we sync with as a client)."""

    device_id: str
    username: str | None = None
    nonce: bytes = b""            # the next nonce we expect it to use (auth-md5 / HMAC)
    devinf: bytes | None = None   # its DevInf, as an XML document
    last_seen: float | None = None


@dataclass(frozen=True, kw_only=True)
class Item:
    guid: str
    data: bytes
    content_type: str
    rev: int
    deleted: bool = False
    uid: str | None = None        # the object's own UID, for pairing on slow sync
    changed_by: str | None = None
    modified: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Change:
    guid: str
    rev: int
    deleted: bool
    changed_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class SyncState:
    """What the last successful sync of one device's datastore left behind."""

    device_id: str
    username: str
    datastore: str
    client_anchor: str | None = None   # the client's Next anchor of the last good sync
    server_anchor: str | None = None   # our Next anchor of the last good sync
    synced_rev: int = 0                # our revision counter as of that sync


class StoreTransaction(Protocol):
    """Operations inside one transaction. Everything is keyed by user: no call can see
    another user's items."""

    # -- accounts ----------------------------------------------------------------
    def get_account(self, username: str) -> Account | None: ...
    def put_account(self, account: Account) -> None: ...
    def remove_account(self, username: str) -> bool: ...
    def list_accounts(self) -> list[Account]: ...

    # -- devices -----------------------------------------------------------------
    def get_device(self, device_id: str) -> Device | None: ...
    def put_device(self, device: Device) -> None: ...
    def list_devices(self, username: str | None = None) -> list[Device]: ...

    # -- items -------------------------------------------------------------------
    def get_item(self, username: str, datastore: str, guid: str) -> Item | None:
        """The live item, or None (tombstones are not returned)."""
    def add_item(self, username: str, datastore: str, *, data: bytes, content_type: str,
                 uid: str | None = None, changed_by: str | None = None,
                 now: float = 0.0, fingerprint: str | None = None) -> Item:
        """Store a new item; assigns its guid and the next revision."""
    def replace_item(self, username: str, datastore: str, guid: str, *, data: bytes,
                     content_type: str, uid: str | None = None,
                     changed_by: str | None = None, now: float = 0.0,
                     fingerprint: str | None = None) -> Item:
        """Replace a live item (raises NotFound if there is none); the fingerprint is
        replaced too (None: unknown)."""
    def delete_item(self, username: str, datastore: str, guid: str, *,
                    changed_by: str | None = None, now: float = 0.0) -> bool:
        """Turn a live item into a tombstone; False if there was no live item."""
    def delete_all(self, username: str, datastore: str, *, changed_by: str | None = None,
                   now: float = 0.0) -> int:
        """Tombstone every live item (refresh from client); returns how many."""
    def list_items(self, username: str, datastore: str) -> Iterator[Item]:
        """Every live item, in guid order."""
    def list_guids(self, username: str, datastore: str, *, after: str | None = None,
                   limit: int | None = None) -> list[str]:
        """The guids of live items in list_items' order, without reading their data;
        ``after`` (a guid) and ``limit`` page through them."""
    def count_items(self, username: str, datastore: str) -> int: ...
    def find_by_uid(self, username: str, datastore: str, uid: str) -> Item | None: ...
    def find_by_fingerprint(self, username: str, datastore: str, fingerprint: str) -> list[str]:
        """The guids of live items stored with this fingerprint, in guid order."""
    def list_items_without_fingerprint(self, username: str, datastore: str, *,
                                       limit: int | None = None) -> list[Item]:
        """Live items stored without a fingerprint, in guid order (the first ``limit``)."""
    def set_fingerprints(self, username: str, datastore: str,
                         pairs: Iterable[tuple[str, str]]) -> None:
        """Record (guid, fingerprint) of live items; not a change (no new revision).
        Unknown or deleted guids are ignored."""
    def changes_since(self, username: str, datastore: str, rev: int) -> list[Change]:
        """The latest change of every item (tombstones included) with revision > rev,
        in revision order."""
    def current_rev(self, username: str, datastore: str) -> int: ...

    # -- sync state and ID maps -----------------------------------------------------
    def get_sync_state(self, device_id: str, username: str, datastore: str) -> SyncState | None: ...
    def put_sync_state(self, state: SyncState) -> None: ...
    def get_map(self, device_id: str, username: str, datastore: str,
                luids: Iterable[str] | None = None) -> dict[str, str]:
        """The device's LUID -> our GUID map for one datastore (only the entries of
        ``luids`` when given)."""
    def put_mappings(self, device_id: str, username: str, datastore: str,
                     pairs: Iterable[tuple[str, str]]) -> None:
        """Insert or update (luid, guid) pairs; a LUID mapped to another GUID than
        before loses its base."""
    def put_bases(self, device_id: str, username: str, datastore: str,
                  entries: Iterable[tuple[str, str, bytes | None]]) -> None:
        """Insert or update (luid, guid, base) rows: the mapping and the item's content
        as the device and we last agreed on it (the base of a three-way merge; None:
        unknown)."""
    def get_base(self, device_id: str, username: str, datastore: str, luid: str,
                 guid: str) -> bytes | None:
        """The base of the mapping luid -> guid; None when there is no such mapping or
        it has no base. Removing a mapping removes its base."""
    def remove_mappings(self, device_id: str, username: str, datastore: str,
                        luids: Iterable[str]) -> None: ...
    def clear_map(self, device_id: str, username: str, datastore: str) -> None: ...
    def move_map(self, from_device: str, to_device: str, username: str,
                 datastore: str) -> int:
        """``to_device``'s map becomes ``from_device``'s (rows and bases), which is left
        empty; the number of rows moved."""

    # -- savepoints (SyncML Atomic: part of a message rolls back alone) -----------------
    def savepoint(self, name: str) -> None:
        """Mark the current state; ``name`` is an identifier ([A-Za-z_][A-Za-z0-9_]*).
        Savepoints nest; the same name may be reused (the newest one counts)."""
    def release(self, name: str) -> None:
        """Keep every change since the savepoint and forget it (and any newer ones)."""
    def rollback_to(self, name: str) -> None:
        """Undo every change since the savepoint; the savepoint stays (release it next).
        An unknown name raises StoreError."""

    # -- sessions (the engine's serialized session state) ------------------------------
    def load_session(self, key: str) -> bytes | None: ...
    def save_session(self, key: str, state: bytes, *, expires: float) -> None: ...
    def delete_session(self, key: str) -> None: ...
    def expire_sessions(self, now: float) -> int: ...

    # -- failed-login throttling (shared by every node of the database) ----------------
    def record_auth_failure(self, key: str, now: float) -> None: ...
    def count_auth_failures(self, key: str, since: float) -> int: ...
    def clear_auth_failures(self, key: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Commit when the block ends normally, roll back when it raises."""
    def close(self) -> None: ...
