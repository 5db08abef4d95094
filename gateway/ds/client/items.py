"""Applying the server's Sync to the local store (package 4; omads-protocol.md §3.8).

Add -> a new local item (201) whose LUID is mapped to the server's GUID (the Map of
package 5); Replace names our LUID in Target (unknown: added, 201); Delete -> 200, or 211
when the item is gone. The server has resolved conflicts, so its data is applied as is.
Chunked items are buffered with the server's own reassembly (largeobj.py).
"""

from __future__ import annotations

from typing import Callable

from gateway.ds import largeobj
from gateway.ds.client.run import DatastoreRun
from gateway.ds.largeobj import BadItem, Piece
from gateway.syncml.model import (
    Add, Alert, Atomic, Delete, Item, Location, Replace, Sequence, Sync, command_name,
)

StatusFn = Callable[..., None]
NAMES = {Add: "Add", Replace: "Replace", Delete: "Delete"}


def _meta(item: Item, cmd, attr: str):
    for meta in (item.meta, getattr(cmd, "meta", None)):
        value = getattr(meta, attr, None) if meta is not None else None
        if value is not None:
            return value
    return None


def apply_sync(run: DatastoreRun, sync: Sync, status: StatusFn, commands: list, *,
               max_obj_size: int) -> None:
    for cmd in sync.commands:
        _command(run, cmd, status, commands, max_obj_size)


def _command(run, cmd, status, commands, max_obj_size) -> None:
    if isinstance(cmd, (Atomic, Sequence)):
        status(cmd, command_name(cmd), 200)
        for child in cmd.commands:
            _command(run, child, status, commands, max_obj_size)
        return
    name = NAMES.get(type(cmd))
    if name is None:
        status(cmd, command_name(cmd), 406)
        return
    if not cmd.items:
        status(cmd, name, 412)
        return
    for item in cmd.items:
        try:
            code = _item(run, cmd, name, item, commands, max_obj_size)
        except BadItem as exc:
            code = exc.code
        if code >= 300:
            run.counters.refused_by_us += 1
        status(cmd, name, code, target=item.target_uri, source=item.source_uri)


def _item(run: DatastoreRun, cmd, name: str, item: Item, commands: list,
          max_obj_size: int) -> int:
    ct = _meta(item, cmd, "type") or run.config.content_type
    guid = item.source_uri
    luid = item.target_uri or run.lookup_luid(guid)
    if name == "Delete":
        return _delete(run, luid)
    got = largeobj.receive(run.in_chunk, Piece(
        cmd=name, luid=guid or luid, target=item.target_uri, content_type=ct,
        fmt=_meta(item, cmd, "format"), size=_meta(item, cmd, "size"),
        wire=largeobj.item_wire(item.data), more_data=item.more_data),
        max_obj_size=max_obj_size)
    run.in_chunk = got.buffer
    if got.interrupted is not None:
        interrupted(got.interrupted, commands)
    if got.code is not None:
        return got.code
    data, ct = got.data or b"", got.content_type or ct
    if luid is not None and run.store.replace(luid, data, ct):
        run.counters.local_updated += 1
        return 200
    new = run.store.add(data, ct)
    run.counters.local_added += 1
    if guid:
        run.remember(new, guid)
    return 201


def _delete(run: DatastoreRun, luid: str | None) -> int:
    if luid is None or not run.store.delete(luid):
        if luid is not None:
            run.unmap(luid)
        return 211
    run.unmap(luid)
    run.counters.local_deleted += 1
    return 200


def interrupted(buffer: dict, commands: list) -> None:
    """Alert 223 for an object the server never completed (§3.7)."""
    commands.append(Alert(data=223, items=(Item(
        target=Location(loc_uri=buffer["luid"] or ""),
        source=Location(loc_uri=buffer["target"]) if buffer.get("target") else None),)))
