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
from gateway.ds.commands import interrupted_alert
from gateway.ds.largeobj import BadItem
from gateway.syncml.codes import StatusCode, is_success
from gateway.syncml.model import Add, Atomic, Delete, Item, Replace, Sequence, Sync, command_name

StatusFn = Callable[..., None]
NAMES = {Add: "Add", Replace: "Replace", Delete: "Delete"}


def apply_sync(run: DatastoreRun, sync: Sync, status: StatusFn, commands: list, *,
               max_obj_size: int) -> None:
    for cmd in sync.commands:
        _command(run, cmd, status, commands, max_obj_size)


def _command(run, cmd, status, commands, max_obj_size) -> None:
    if isinstance(cmd, (Atomic, Sequence)):
        status(cmd, command_name(cmd), StatusCode.OK)
        for child in cmd.commands:
            _command(run, child, status, commands, max_obj_size)
        return
    name = NAMES.get(type(cmd))
    if name is None:
        status(cmd, command_name(cmd), StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)
        return
    if not cmd.items:
        status(cmd, name, StatusCode.INCOMPLETE_COMMAND)
        return
    for item in cmd.items:
        try:
            code = _item(run, cmd, name, item, commands, max_obj_size)
        except BadItem as exc:
            code = exc.code
        if not is_success(code):
            run.counters.refused_by_us += 1
        status(cmd, name, code, target=item.target_uri, source=item.source_uri)


def _item(run: DatastoreRun, cmd, name: str, item: Item, commands: list,
          max_obj_size: int) -> int:
    guid = item.source_uri
    luid = item.target_uri or run.lookup_luid(guid)
    if name == "Delete":
        return _delete(run, luid)
    piece = largeobj.piece_of(cmd, name, item, guid or luid, run.config.content_type)
    got = largeobj.receive(run.in_chunk, piece, max_obj_size=max_obj_size)
    run.in_chunk = got.buffer
    if got.interrupted is not None:
        commands.append(interrupted_alert(got.interrupted))
    if got.code is not None:
        return got.code
    data, ct = got.data or b"", got.content_type or piece.content_type
    if luid is not None and run.store.replace(luid, data, ct):
        run.counters.local_updated += 1
        return StatusCode.OK
    new = run.store.add(data, ct)
    run.counters.local_added += 1
    if guid:
        run.remember(new, guid)
    return StatusCode.ITEM_ADDED


def _delete(run: DatastoreRun, luid: str | None) -> int:
    if luid is None or not run.store.delete(luid):
        if luid is not None:
            run.unmap(luid)
        return StatusCode.ITEM_NOT_DELETED
    run.unmap(luid)
    run.counters.local_deleted += 1
    return StatusCode.OK
