"""Per-message working context: the transaction, the session, the reply being collected,
and the item operations every command handler shares (store write + ID map + bookkeeping).

Every write of client content also records it as the item's merge base (the content the
device and we agree on) on its ID-map row. Items we sent that the client acknowledged
are queued (``agree``) and written in one batch (``flush_bases``) before the next
command that is not a Status, and at the end of the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Callable

from gateway.ds import commands, contentops
from gateway.ds.server import report
from gateway.ds.ops import OpQueue
from gateway.ds.server.session import DatastoreState, SessionState
from gateway.ds.settings import ServerSettings
from gateway.syncml.codes import is_success
from gateway.syncml.model import Item, Status, command_name

UNKNOWN = object()   # "not looked up yet" (a UID may legitimately be None)
KEEP = object()      # map(): leave the mapping's base as it is


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """The engine state a command can change, as it was (``MessageContext.checkpoint``).
    Statuses are not in it: they go out even for commands that are rolled back."""

    commands: int
    luids: dict
    session: dict
    datastores: dict
    ds_fields: dict
    pending: dict
    received: dict
    agreed: dict


def _copy(value):
    """A copy deep enough for the session's fields: their lists and dicts get replaced or
    appended to, never changed inside."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


_SESSION_SKIP = frozenset({"datastores"})
_DS_SKIP = frozenset({"received", "pending"})


@dataclass
class MessageContext:
    tx: object
    settings: ServerSettings
    state: SessionState
    now: float
    msg_id: str
    encoding: str
    log: Callable[..., None] | None = None
    statuses: list = field(default_factory=list)     # in command order (Results included)
    commands: list = field(default_factory=list)     # our Alerts, Gets... after the statuses
    _luids: dict[str, dict[str, str | None]] = field(default_factory=dict)  # map look-ups
    failures: int = 0           # statuses outside 2xx given so far (NoResp ones included)
    # acknowledged items not written yet: ds name -> {luid: (guid, base or None: unmap)}
    agreed: dict[str, dict[str, tuple[str, bytes | None]]] = field(default_factory=dict)
    in_atomic: bool = False     # inside an Atomic (atomic.py): no nesting, no chunks
    # (ds name, content type) -> fieldfilter.FilteredPrints: our unpaired items' filtered
    # fingerprints for a slow sync under a field filter, built lazily for this message
    filtered_prints: dict = field(default_factory=dict)

    @property
    def username(self) -> str:
        return self.state.username or ""

    @property
    def device_id(self) -> str:
        return self.state.device_id

    def note(self, event: str, **fields) -> None:
        if self.log is not None:
            self.log(event, session=self.state.key, device=self.device_id,
                     user=self.state.username, **fields)

    # -- reply -------------------------------------------------------------------------
    def status(self, cmd, name: str, code: int, *, target: str | None = None,
               source: str | None = None, items: tuple[Item, ...] = (), chal=None) -> None:
        if not is_success(code):
            self.failures += 1
        if getattr(cmd, "no_resp", False):
            return
        self.statuses.append(commands.status(self.msg_id, cmd, name, code, target=target,
                                             source=source, items=items, chal=chal))

    def status_all(self, cmds, code: int) -> None:
        """Status ``code`` for each of ``cmds`` and for the commands inside containers
        (Sync, Atomic, Sequence); a Status gets none."""
        for cmd in cmds:
            if isinstance(cmd, Status):
                continue
            self.status(cmd, command_name(cmd), code)
            inner = getattr(cmd, "commands", None)
            if inner:
                self.status_all(inner, code)

    # -- rolling back part of a message (Atomic) ------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """The session and per-message state now; ``restore`` puts it back. Cheap where
        it matters: the guids received are kept as a count (that list only grows)."""
        st = self.state
        return Checkpoint(
            commands=len(self.commands),
            luids={name: dict(known) for name, known in self._luids.items()},
            session={f.name: _copy(getattr(st, f.name)) for f in fields(st)
                     if f.name not in _SESSION_SKIP},
            datastores=dict(st.datastores),
            ds_fields={name: {f.name: _copy(getattr(ds, f.name)) for f in fields(ds)
                              if f.name not in _DS_SKIP}
                       for name, ds in st.datastores.items()},
            pending={name: list(ds.pending.as_flat()) for name, ds in st.datastores.items()},
            received={name: len(ds.received.as_list()) for name, ds in st.datastores.items()},
            agreed={name: dict(queued) for name, queued in self.agreed.items()})

    def restore(self, cp: Checkpoint) -> None:
        st = self.state
        del self.commands[cp.commands:]
        self._luids = cp.luids
        self.agreed = cp.agreed
        self.filtered_prints = {}         # rebuilt on demand from the restored store
        for name, value in cp.session.items():
            setattr(st, name, value)
        st.datastores = dict(cp.datastores)
        for name, ds in st.datastores.items():
            for field_name, value in cp.ds_fields[name].items():
                setattr(ds, field_name, value)
            ds.pending = OpQueue.from_flat(cp.pending[name])
            ds.received.truncate(cp.received[name])

    # -- id maps -----------------------------------------------------------------------
    def lookup(self, ds: DatastoreState, luid: str | None) -> str | None:
        """The GUID mapped to one LUID: a keyed store read (cached for the message), never
        the whole map."""
        if not luid:
            return None
        known = self._luids.setdefault(ds.name, {})
        if luid not in known:
            known[luid] = self.tx.get_map(self.device_id, self.username, ds.name,
                                          [luid]).get(luid)
        return known[luid]

    def remember_maps(self, name: str, pairs) -> None:
        """Keep the cached look-ups in step with mappings written (guid None: removed)."""
        known = self._luids.get(name)
        if known is not None:
            known.update(pairs)

    def map(self, ds: DatastoreState, luid: str | None, guid: str, *,
            base: bytes | None | object = KEEP) -> None:
        """Map ``luid`` to ``guid``; ``base``: the content both sides now hold (None:
        unknown; KEEP: as it was, dropped if the LUID named another item)."""
        if not luid:
            return
        self._unqueue(ds.name, luid)
        if base is KEEP:
            self.tx.put_mappings(self.device_id, self.username, ds.name, [(luid, guid)])
        else:
            self.tx.put_bases(self.device_id, self.username, ds.name, [(luid, guid, base)])
        self.remember_maps(ds.name, ((luid, guid),))

    def unmap(self, ds: DatastoreState, luid: str | None) -> None:
        if not luid:
            return
        self._unqueue(ds.name, luid)
        self.tx.remove_mappings(self.device_id, self.username, ds.name, [luid])
        self.remember_maps(ds.name, ((luid, None),))

    def forget_maps(self, name: str) -> None:
        self._luids.pop(name, None)
        self.agreed.pop(name, None)

    # -- merge bases -------------------------------------------------------------------
    def base_of(self, ds: DatastoreState, luid: str | None, guid: str) -> bytes | None:
        """The content the device and we last agreed on for the item luid -> guid."""
        if not luid:
            return None
        return self.tx.get_base(self.device_id, self.username, ds.name, luid, guid)

    def agree(self, name: str, luid: str, guid: str, base: bytes | None) -> None:
        """The client acknowledged our item: it holds ``base`` under ``luid`` (None: it
        deleted the item, so the mapping goes). Written by ``flush_bases``."""
        self.agreed.setdefault(name, {})[luid] = (guid, base)

    def _unqueue(self, name: str, luid: str) -> None:
        queued = self.agreed.get(name)
        if queued:
            queued.pop(luid, None)

    def flush_bases(self) -> None:
        """Write the queued acknowledgements: one store call per datastore and kind."""
        if not self.agreed:
            return
        agreed, self.agreed = self.agreed, {}
        for name, queued in agreed.items():
            kept = [(luid, guid, base) for luid, (guid, base) in queued.items()
                    if base is not None]
            gone = [luid for luid, (_, base) in queued.items() if base is None]
            if kept:
                self.tx.put_bases(self.device_id, self.username, name, kept)
                self.remember_maps(name, ((luid, guid) for luid, guid, _ in kept))
            if gone:
                self.tx.remove_mappings(self.device_id, self.username, name, gone)
                self.remember_maps(name, ((luid, None) for luid in gone))

    # -- item operations ---------------------------------------------------------------
    @staticmethod
    def mark_received(ds: DatastoreState, guid: str) -> None:
        ds.received.add(guid)

    def add(self, ds: DatastoreState, luid: str | None, data: bytes, ct: str, *,
            uid: str | None | object = UNKNOWN, fp: str | object = UNKNOWN,
            base: bytes | None | object = UNKNOWN) -> str:
        """Store a new item from the client (``uid``, ``fp``: its UID and fingerprint
        when already computed; ``base``: the merge base, by default ``data``)."""
        item = self.tx.add_item(self.username, ds.name, data=data, content_type=ct,
                                uid=contentops.item_uid(data, ct) if uid is UNKNOWN else uid,
                                changed_by=self.device_id, now=self.now,
                                fingerprint=contentops.fingerprint(data) if fp is UNKNOWN else fp)
        self.map(ds, luid, item.guid, base=data if base is UNKNOWN else base)
        ds.received.add_new(item.guid)
        report.applied(ds.stats, "add")
        return item.guid

    def replace(self, ds: DatastoreState, guid: str, luid: str | None, data: bytes,
                ct: str, *, base: bytes | None | object = UNKNOWN) -> None:
        """Replace an item with the client's content (``base``: the merge base, by
        default ``data``; a merge result stored passes what the client holds)."""
        self.tx.replace_item(self.username, ds.name, guid, data=data, content_type=ct,
                             uid=contentops.item_uid(data, ct), changed_by=self.device_id,
                             now=self.now, fingerprint=contentops.fingerprint(data))
        self.map(ds, luid, guid, base=data if base is UNKNOWN else base)
        ds.received.add(guid)
        report.applied(ds.stats, "replace")

    def delete(self, ds: DatastoreState, guid: str, luid: str | None) -> bool:
        done = self.tx.delete_item(self.username, ds.name, guid, changed_by=self.device_id,
                                   now=self.now)
        self.unmap(ds, luid)
        ds.received.add(guid)
        if done:
            report.applied(ds.stats, "delete")
        return done
