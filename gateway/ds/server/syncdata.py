"""Applying the client's Sync (packages 3; omads-protocol.md §3.3, §3.7, §3.8).

Add -> 201 with the client LUID, Replace -> 200 (unknown LUID: added, 201), Delete ->
200 (211 when gone), conflicts per policy (conflicts.py), slow sync pairs client items
with ours (old ID map, UID, identical content; under a field filter, content as the
client sees it) instead of duplicating; a differing pair found through the old ID map
merges against the base that map held. Chunked items are
buffered (213 per chunk), checked against Size (424; missing Size 411; over our
MaxObjSize 413) and applied when complete; an interrupted object gets Alert 223.
Atomic runs its children all or nothing (atomic.py); a chunked item cannot be inside
one (its object would span messages, beyond the Atomic): 406. Sequence runs its
children in order. Move changes nothing but the data (our datastores are flat); an
unknown LUID is 404. Under a field filter a client's new version of an item we hold
gets back the properties the filter hid from it (fieldfilter.restore_hidden) before
anything compares or stores it.
"""

from __future__ import annotations

from gateway.ds import contentops, fieldfilter, largeobj
from gateway.ds.commands import interrupted_alert
from gateway.ds.largeobj import BadItem
from gateway.ds.modes import MODES, Sends
from gateway.ds.server import atomic, conflicts, report
from gateway.ds.server.context import UNKNOWN, MessageContext
from gateway.ds.server.phases import DatastoreInput, DatastorePhase
from gateway.ds.server.session import DatastoreState, aside_device
from gateway.syncml.codes import AlertCode, StatusCode
from gateway.syncml.model import (
    Add, Atomic, Copy, Delete, Item, Move, Replace, Sequence, Sync, command_name,
)

NAMES = {Add: "Add", Replace: "Replace", Delete: "Delete", Copy: "Copy", Move: "Move"}


def handle_sync(ctx: MessageContext, sync: Sync) -> None:
    target = sync.target.loc_uri if sync.target else ""
    source = sync.source.loc_uri if sync.source else ""
    dss = ctx.settings.datastore(target)
    ds = ctx.state.datastores.get(dss.name) if dss else None
    if ds is None:      # unknown datastore / not alerted
        code = StatusCode.NOT_FOUND if dss is None else StatusCode.COMMAND_NOT_ALLOWED
        ctx.status(sync, "Sync", code, target=target, source=source)
        ctx.status_all(sync.commands, code)
        return
    ctx.status(sync, "Sync", StatusCode.OK, target=target, source=source)
    prepare(ctx, ds)
    for cmd in sync.commands:
        _command(ctx, ds, dss, cmd)


FILL_BATCH = 500   # items per store call when filling in missing fingerprints


def prepare(ctx: MessageContext, ds: DatastoreState) -> None:
    """Once per sync, as the client's package begins (phase ALERTED -> RECEIVING): slow
    sync moves the ID map aside (pairing uses it) and pairs only when we hold items;
    refresh from client empties our datastore."""
    if ds.phase is not DatastorePhase.ALERTED:
        return
    ds.advance(DatastoreInput.BEGIN)
    tx, user = ctx.tx, ctx.username
    if ds.mode == AlertCode.SLOW_SYNC:
        aside = aside_device(ctx.device_id)
        ds.pair = tx.count_items(user, ds.name) > 0
        if ds.pair:      # the old map, with its bases (merges use them), set aside whole
            ds.map_aside = tx.move_map(ctx.device_id, aside, user, ds.name) > 0
            _fill_fingerprints(ctx, ds)
        else:
            tx.clear_map(aside, user, ds.name)
        tx.clear_map(ctx.device_id, user, ds.name)
        ctx.forget_maps(ds.name)
    elif ds.mode == AlertCode.REFRESH_FROM_CLIENT:
        tx.delete_all(user, ds.name, changed_by=ctx.device_id, now=ctx.now)
        tx.clear_map(ctx.device_id, user, ds.name)
        ctx.forget_maps(ds.name)


def _fill_fingerprints(ctx: MessageContext, ds: DatastoreState) -> None:
    """Items stored without a fingerprint (before fingerprints existed, or by another
    writer) get one, so pairing finds them by content."""
    tx, user, last = ctx.tx, ctx.username, None
    while True:
        batch = tx.list_items_without_fingerprint(user, ds.name, limit=FILL_BATCH)
        if not batch or batch[0].guid == last:
            return
        last = batch[0].guid
        tx.set_fingerprints(user, ds.name, [(i.guid, contentops.fingerprint(bytes(i.data)))
                                            for i in batch])
        if len(batch) < FILL_BATCH:
            return


CHUNK_IN_ATOMIC = StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED   # a large object in an Atomic


def _command(ctx: MessageContext, ds: DatastoreState, dss, cmd) -> None:
    if isinstance(cmd, Atomic):
        if ds.in_chunk is not None and not ctx.in_atomic:
            interrupted(ctx, ds)     # its next chunk cannot come inside an Atomic
        atomic.run(ctx, cmd, lambda child: _command(ctx, ds, dss, child))
        return
    if isinstance(cmd, Sequence):
        ctx.status(cmd, command_name(cmd), StatusCode.OK)
        for child in cmd.commands:
            _command(ctx, ds, dss, child)
        return
    name = NAMES.get(type(cmd))
    if name is None:
        ctx.status(cmd, command_name(cmd), StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)
        return
    if not cmd.items:
        ctx.status(cmd, name, StatusCode.INCOMPLETE_COMMAND)
        return
    if ctx.in_atomic and any(item.more_data for item in cmd.items):
        ctx.status(cmd, name, CHUNK_IN_ATOMIC)
        return
    for item in cmd.items:
        luid = item.source_uri or item.target_uri
        target = item.target_uri if item.target_uri and item.source_uri else None
        try:
            code = _item(ctx, ds, dss, cmd, name, item, luid)
        except BadItem as exc:
            code = exc.code
        report.count_in(ds.stats, name, code)
        ctx.status(cmd, name, code, target=target, source=luid)


def _item(ctx: MessageContext, ds: DatastoreState, dss, cmd, name: str, item: Item,
          luid: str | None) -> int:
    default_ct = dss.content_types[0][0] if dss.content_types else ""
    got = largeobj.receive(ds.in_chunk, largeobj.piece_of(cmd, name, item, luid, default_ct),
                           max_obj_size=ctx.settings.max_obj_size)
    if got.interrupted is not None:
        ds.in_chunk = got.interrupted
        interrupted(ctx, ds)
    ds.in_chunk = got.buffer
    if got.code is not None:
        return got.code
    data, ct = got.data, got.content_type
    report.add_bytes(ds.stats, "in", len(data or b""))
    if name != "Delete":
        if len(data) > ctx.settings.max_obj_size:
            return StatusCode.REQUEST_ENTITY_TOO_LARGE
        if ct and not dss.accepts(ct):
            return StatusCode.UNSUPPORTED_MEDIA_TYPE
    if name == "Add":
        return _add(ctx, ds, dss, luid, data, ct)
    if name == "Replace":
        return _replace(ctx, ds, dss, luid, data, ct)
    if name == "Delete":
        return _delete(ctx, ds, dss, luid)
    if name == "Copy":
        return _copy(ctx, ds, item, luid, data, ct)
    return _move(ctx, ds, luid, data, ct)


def interrupted(ctx: MessageContext, ds: DatastoreState) -> None:
    """Alert 223: the chunked object was not completed; drop it (§3.7)."""
    chunk = ds.in_chunk
    ds.in_chunk = None
    if chunk is None:
        return
    ctx.commands.append(interrupted_alert(chunk))
    ctx.note("large object interrupted", datastore=ds.name, luid=chunk["luid"])


def _live(ctx: MessageContext, ds: DatastoreState, guid: str | None):
    if not guid:
        return None
    return ctx.tx.get_item(ctx.username, ds.name, guid)


def _unhide(ds: DatastoreState, current, data: bytes, ct: str) -> bytes:
    """The client's ``data`` plus our properties its field filter kept from it."""
    if not ds.field_filter or current is None:
        return data
    return fieldfilter.restore_hidden(data, ct, bytes(current.data), current.content_type,
                                      frozenset(ds.field_filter))


def _conflicting(ctx: MessageContext, ds: DatastoreState, item) -> bool:
    return (item.rev > ds.base_rev and item.changed_by != ctx.device_id
            and item.guid not in ds.received and MODES[ds.mode].client_sends is not Sends.ALL)


def _add(ctx, ds, dss, luid, data, ct) -> int:
    if ds.mode == AlertCode.SLOW_SYNC:
        return _slow_pair(ctx, ds, dss, luid, data, ct)
    current = _live(ctx, ds, ctx.lookup(ds, luid))
    if current is not None:
        # An Add for a LUID we already map: the client resends an item whose earlier Add
        # we applied (its reply was lost) or one it got from us. Never a duplicate.
        data = _unhide(ds, current, data, ct)
        if not contentops.same_content(bytes(current.data), data, ct):
            if _conflicting(ctx, ds, current):
                conflicts.resolve(ctx, ds, dss, current, luid, data, ct)
            else:
                ctx.replace(ds, current.guid, luid, data, ct)
        else:
            ctx.map(ds, luid, current.guid, base=data)      # agreed: the merge base
            report.applied(ds.stats, "unchanged")
        return StatusCode.ITEM_ADDED
    ctx.add(ds, luid, data, ct)
    return StatusCode.ITEM_ADDED


def _slow_pair(ctx, ds, dss, luid, data, ct) -> int:
    """Slow sync: the same item known by its old LUID, its UID, or identical content
    (none of that when our datastore was empty when the sync began)."""
    if not ds.pair:
        ctx.add(ds, luid, data, ct)
        return StatusCode.ITEM_ADDED
    taken = ds.received
    candidate = None
    old = _old_guid(ctx, ds, luid)
    if old and old not in taken:
        candidate = _live(ctx, ds, old)
    via_map = candidate is not None
    uid = fp = UNKNOWN
    if candidate is None:
        uid = contentops.item_uid(data, ct)
        if uid:
            found = ctx.tx.find_by_uid(ctx.username, ds.name, uid)
            if found is not None and found.guid not in taken:
                candidate = found
    if candidate is None:
        fp = contentops.fingerprint(data)
        for guid in ctx.tx.find_by_fingerprint(ctx.username, ds.name, fp):
            if guid not in taken:
                candidate = _live(ctx, ds, guid)
                if candidate is not None:
                    break
    if candidate is None and ds.field_filter:
        candidate = _filtered_pair(ctx, ds, data, ct)
    if candidate is None:
        ctx.add(ds, luid, data, ct, uid=uid, fp=fp)
        return StatusCode.ITEM_ADDED
    data = _unhide(ds, candidate, data, ct)
    if contentops.same_content(bytes(candidate.data), data, ct):
        ctx.map(ds, luid, candidate.guid, base=data)       # paired: the merge base
        ctx.mark_received(ds, candidate.guid)
        report.applied(ds.stats, "unchanged")
        return StatusCode.ITEM_ADDED
    base = _old_base(ctx, ds, luid, candidate.guid) if via_map else None
    conflicts.resolve(ctx, ds, dss, candidate, luid, data, ct,
                      base=conflicts.LOOKUP if base is None else base)
    return StatusCode.ITEM_ADDED


def _old_base(ctx, ds, luid, guid) -> bytes | None:
    """The base the mapping luid -> guid had before this slow sync."""
    if not ds.map_aside:
        return None
    return ctx.tx.get_base(aside_device(ctx.device_id), ctx.username, ds.name, luid, guid)


def _filtered_pair(ctx, ds, data, ct):
    """Under a field filter the client's copy lacks the hidden properties: pair by the
    fingerprint of our unpaired items' filtered views (indexed lazily, per message)."""
    allowed = frozenset(ds.field_filter)
    tx, user, taken = ctx.tx, ctx.username, ds.received
    index = ctx.filtered_prints.setdefault((ds.name, ct.lower()), fieldfilter.FilteredPrints())

    def next_page(after):
        page = []
        for guid in tx.list_guids(user, ds.name, after=after, limit=FILL_BATCH):
            item = None if guid in taken else tx.get_item(user, ds.name, guid)
            page.append((guid, None if item is None else fieldfilter.view_print(
                bytes(item.data), item.content_type, ct, allowed)))
        return page

    wanted = fieldfilter.view_print(data, ct, ct, allowed)
    guid = index.find(wanted, next_page, lambda g: g not in taken)
    return _live(ctx, ds, guid)


def _old_guid(ctx, ds, luid) -> str | None:
    """The GUID the LUID had before this slow sync."""
    if not luid:
        return None
    if ds.old_map:
        return ds.old_map.get(luid)
    if not ds.map_aside:
        return None
    return ctx.tx.get_map(aside_device(ctx.device_id), ctx.username, ds.name, [luid]).get(luid)


def _replace(ctx, ds, dss, luid, data, ct) -> int:
    if ds.mode == AlertCode.SLOW_SYNC:
        return _slow_pair(ctx, ds, dss, luid, data, ct)
    current = _live(ctx, ds, ctx.lookup(ds, luid))
    if current is None:
        ctx.add(ds, luid, data, ct)
        return StatusCode.ITEM_ADDED
    data = _unhide(ds, current, data, ct)
    if _conflicting(ctx, ds, current):
        return conflicts.resolve(ctx, ds, dss, current, luid, data, ct)
    ctx.replace(ds, current.guid, luid, data, ct)
    return StatusCode.OK


def _delete(ctx, ds, dss, luid) -> int:
    guid = ctx.lookup(ds, luid)
    current = _live(ctx, ds, guid)
    if current is None:
        ctx.unmap(ds, luid)
        return StatusCode.ITEM_NOT_DELETED
    if _conflicting(ctx, ds, current):
        return conflicts.resolve_delete(ctx, ds, dss, current, luid)
    ctx.delete(ds, current.guid, luid)
    return StatusCode.OK


def _copy(ctx, ds, item, luid, data, ct) -> int:
    """Copy: a new item from the data given, or from the item the Source names."""
    if not data:
        original = _live(ctx, ds, ctx.lookup(ds, item.source_uri))
        if original is None:
            return StatusCode.NOT_FOUND
        data, ct = bytes(original.data), original.content_type
    ctx.add(ds, item.target_uri if item.source_uri and item.target_uri else luid, data, ct)
    return StatusCode.ITEM_ADDED


def _move(ctx, ds, luid, data, ct) -> int:
    """Move changes the parent only; our datastores are flat, so the item stays."""
    current = _live(ctx, ds, ctx.lookup(ds, luid))
    if current is None:
        return StatusCode.NOT_FOUND
    if data:
        ctx.replace(ds, current.guid, luid, _unhide(ds, current, data, ct), ct)
    return StatusCode.OK


def end_of_package(ctx: MessageContext) -> None:
    """A Final message ends the client's package: no chunk may be left open."""
    for ds in ctx.state.datastores.values():
        if ds.in_chunk is not None:
            interrupted(ctx, ds)

