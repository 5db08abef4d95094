"""Our side of a client sync: which local items go to the server, in which command form.

The operations are the server's ``[op, id, other id]`` triples, so the server's packer
(packaging.py) fits them into messages and splits large objects; ``client_form`` then
addresses them as a client does (Source = our LUID, no Target; omads-protocol.md §3.8).
Slow sync and refresh from client send every item as Add; two-way and one-way from
client send the store's changes; the server-to-client modes send nothing.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.ds.client.run import DatastoreRun
from gateway.ds.client.store import ADDED, DELETED, MODIFIED
from gateway.ds.server.outgoing import ADD, DELETE, REPLACE
from gateway.syncml.model import Add, Delete, Location, Map, MapItem, Replace, Sync

SENDS_ALL = (201, 203)
SENDS_CHANGES = (200, 202)
KIND = {ADDED: ADD, MODIFIED: REPLACE, DELETED: DELETE}
MAP_BATCH = 50


def collect(run: DatastoreRun, *, resumed_sent: frozenset[str] = frozenset()) -> list[list]:
    if run.mode in SENDS_ALL:
        return [[ADD, luid, None] for luid in sorted(run.store.luids())
                if luid not in resumed_sent]
    if run.mode in SENDS_CHANGES:
        ops = []
        for ch in run.store.changes():
            guid = run.memory.map.get(ch.luid) or run.memory.pending_map.get(ch.luid)
            if ch.kind == ADDED:
                ops.append([ADD, ch.luid, None])
            elif ch.kind == MODIFIED:
                ops.append([REPLACE, ch.luid, guid])
            elif ch.kind == DELETED:
                ops.append([DELETE, ch.luid, guid])
        return ops
    return []


def renderer(run: DatastoreRun):
    def render(op: list) -> tuple[str, bytes, str] | None:
        kind, luid, _ = op
        if kind == DELETE:
            return kind, b"", ""
        data = run.store.read(luid)
        if data is None:
            return None
        return kind, data, run.config.content_type
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


__all__ = ["Add", "collect", "renderer", "client_form", "maps"]
