"""Our side of a client sync: which local items go to the server, in which command form.

The operations are ``Op(kind, luid, None)`` (ops.py), so the shared packer (packaging.py)
fits them into messages and splits large objects; ``client_form`` then addresses them
as a client does: Source = our LUID, no Target (omads-protocol.md §3.8), so the
server's GUID is never needed here. Which items go follows the mode (modes.py): all of
them as Add, or the store's changes.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.ds.client.run import DatastoreRun
from gateway.ds.client.store import ADDED, DELETED, MODIFIED
from gateway.ds.modes import MODES, Sends
from gateway.ds.ops import ADD, DELETE, REPLACE, Op
from gateway.syncml.model import Delete, Location, Map, MapItem, Replace, Sync

KIND = {ADDED: ADD, MODIFIED: REPLACE, DELETED: DELETE}
MAP_BATCH = 50


def collect(run: DatastoreRun, *, resumed_sent: frozenset[str] = frozenset()) -> list[Op]:
    sends = MODES[run.mode].client_sends
    if sends is Sends.ALL:
        return [Op(ADD, luid, None) for luid in sorted(run.store.luids())
                if luid not in resumed_sent]
    if sends is Sends.CHANGES:
        return [Op(KIND[ch.kind], ch.luid, None) for ch in run.store.changes()
                if ch.kind in KIND]
    return []


def renderer(run: DatastoreRun):
    def render(op: Op) -> tuple[str, bytes, str] | None:
        if op.kind == DELETE:
            return op.kind, b"", ""
        data = run.store.read(op.source)
        if data is None:
            return None
        return op.kind, data, run.config.content_type
    return render


def client_form(cmd):
    """A packed Add/Replace/Delete as a client sends it: the LUID is the Source."""
    if isinstance(cmd, Sync):
        return replace(cmd, commands=tuple(client_form(c) for c in cmd.commands))
    if isinstance(cmd, Replace):
        return replace(cmd, items=tuple(replace(i, target=None) for i in cmd.items))
    if isinstance(cmd, Delete):
        return replace(cmd, items=tuple(replace(i, source=i.target, target=None)
                                        for i in cmd.items))
    return cmd


def maps(run: DatastoreRun) -> list[tuple[Map, list[str]]]:
    """Map commands for the items the server added and we have not had acknowledged."""
    pairs = sorted(run.memory.pending_map.items())
    out = []
    for i in range(0, len(pairs), MAP_BATCH):
        batch = pairs[i:i + MAP_BATCH]
        out.append((Map(target=Location(loc_uri=run.remote_uri),
                        source=Location(loc_uri=run.local_uri),
                        map_items=tuple(MapItem(target=Location(loc_uri=g),
                                                source=Location(loc_uri=l))
                                        for l, g in batch)),
                    [l for l, _ in batch]))
    return out
