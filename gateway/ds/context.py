"""Per-message working context: the transaction, the session, the reply being collected,
and the item operations every command handler shares (store write + ID map + bookkeeping).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from gateway.ds import contentops
from gateway.ds.session import DatastoreState, SessionState
from gateway.ds.settings import ServerSettings
from gateway.syncml.model import Item, Status

UNKNOWN = object()   # "not looked up yet" (a UID may legitimately be None)


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
        if getattr(cmd, "no_resp", False):
            return
        self.statuses.append(Status(
            msg_ref=self.msg_id, cmd_ref=getattr(cmd, "cmd_id", "") or "", cmd=name,
            target_refs=(target,) if target else (), source_refs=(source,) if source else (),
            data=int(code), items=items, chal=chal))

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

    def map(self, ds: DatastoreState, luid: str | None, guid: str) -> None:
        if not luid:
            return
        self.tx.put_mappings(self.device_id, self.username, ds.name, [(luid, guid)])
        self.remember_maps(ds.name, ((luid, guid),))

    def unmap(self, ds: DatastoreState, luid: str | None) -> None:
        if not luid:
            return
        self.tx.remove_mappings(self.device_id, self.username, ds.name, [luid])
        self.remember_maps(ds.name, ((luid, None),))

    def forget_maps(self, name: str) -> None:
        self._luids.pop(name, None)

    # -- item operations ---------------------------------------------------------------
    @staticmethod
    def mark_received(ds: DatastoreState, guid: str) -> None:
        ds.received.add(guid)

    def add(self, ds: DatastoreState, luid: str | None, data: bytes, ct: str, *,
            uid: str | None | object = UNKNOWN, fp: str | object = UNKNOWN) -> str:
        """Store a new item from the client (``uid``, ``fp``: its UID and fingerprint
        when already computed)."""
        item = self.tx.add_item(self.username, ds.name, data=data, content_type=ct,
                                uid=contentops.item_uid(data, ct) if uid is UNKNOWN else uid,
                                changed_by=self.device_id, now=self.now,
                                fingerprint=contentops.fingerprint(data) if fp is UNKNOWN else fp)
        self.map(ds, luid, item.guid)
        ds.received.add_new(item.guid)
        return item.guid

    def replace(self, ds: DatastoreState, guid: str, luid: str | None, data: bytes,
                ct: str) -> None:
        self.tx.replace_item(self.username, ds.name, guid, data=data, content_type=ct,
                             uid=contentops.item_uid(data, ct), changed_by=self.device_id,
                             now=self.now, fingerprint=contentops.fingerprint(data))
        self.map(ds, luid, guid)
        ds.received.add(guid)

    def delete(self, ds: DatastoreState, guid: str, luid: str | None) -> bool:
        done = self.tx.delete_item(self.username, ds.name, guid, changed_by=self.device_id,
                                   now=self.now)
        self.unmap(ds, luid)
        ds.received.add(guid)
        return done
