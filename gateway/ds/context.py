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
    _maps: dict[str, dict[str, str]] = field(default_factory=dict)
    _index: dict[str, dict[str, list[str]]] = field(default_factory=dict)

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
    def mapping(self, ds: DatastoreState) -> dict[str, str]:
        m = self._maps.get(ds.name)
        if m is None:
            m = self._maps[ds.name] = dict(self.tx.get_map(self.device_id, self.username, ds.name))
        return m

    def map(self, ds: DatastoreState, luid: str | None, guid: str) -> None:
        if not luid:
            return
        self.tx.put_mappings(self.device_id, self.username, ds.name, [(luid, guid)])
        self.mapping(ds)[luid] = guid

    def unmap(self, ds: DatastoreState, luid: str | None) -> None:
        if not luid:
            return
        self.tx.remove_mappings(self.device_id, self.username, ds.name, [luid])
        self.mapping(ds).pop(luid, None)

    def forget_maps(self, name: str) -> None:
        self._maps.pop(name, None)
        self._index.pop(name, None)

    # -- item operations ---------------------------------------------------------------
    def mark_received(self, ds: DatastoreState, guid: str) -> None:
        if guid not in ds.received:
            ds.received.append(guid)

    def add(self, ds: DatastoreState, luid: str | None, data: bytes, ct: str) -> str:
        item = self.tx.add_item(self.username, ds.name, data=data, content_type=ct,
                                uid=contentops.item_uid(data, ct), changed_by=self.device_id,
                                now=self.now)
        self.map(ds, luid, item.guid)
        self.mark_received(ds, item.guid)
        return item.guid

    def replace(self, ds: DatastoreState, guid: str, luid: str | None, data: bytes,
                ct: str) -> None:
        self.tx.replace_item(self.username, ds.name, guid, data=data, content_type=ct,
                             uid=contentops.item_uid(data, ct), changed_by=self.device_id,
                             now=self.now)
        self.map(ds, luid, guid)
        self.mark_received(ds, guid)

    def delete(self, ds: DatastoreState, guid: str, luid: str | None) -> bool:
        done = self.tx.delete_item(self.username, ds.name, guid, changed_by=self.device_id,
                                   now=self.now)
        self.unmap(ds, luid)
        self.mark_received(ds, guid)
        return done

    # -- slow-sync pairing ----------------------------------------------------------------
    def fingerprint_index(self, ds: DatastoreState) -> dict[str, list[str]]:
        idx = self._index.get(ds.name)
        if idx is None:
            idx = {}
            taken = set(ds.received)
            for item in self.tx.list_items(self.username, ds.name):
                if item.guid not in taken:
                    idx.setdefault(contentops.fingerprint(bytes(item.data)), []).append(item.guid)
            self._index[ds.name] = idx
        return idx
