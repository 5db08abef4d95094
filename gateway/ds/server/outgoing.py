"""Our side of a sync: which server changes go to the client, rendered as commands.

Two-way / one-way from server: every change since the last good sync (``base_rev``) not
made by this device and not written by it in this session. Slow sync: every live item
the client did not pair. Refresh from server: every live item. One-way / refresh from
client: nothing. Conflict outcomes add their own ``sendback`` operations.

With a record filter (DatastoreState.record_filter) an item that does not match is not
sent; with an EXCLUSIVE one an item the client holds that does not match (changed or
not) gets a Delete, which removes it from the client only. Items the client wrote in
this session and conflict results are sent regardless. With a field filter the items
sent carry only the properties the client wants (fieldfilter.py).
"""

from __future__ import annotations

import base64

from gateway.ds import contentops, fieldfilter
from gateway.ds.filters import RecordFilter
from gateway.ds.modes import MODES, Sends
from gateway.ds.ops import ADD, DELETE, REPLACE, Op
from gateway.ds.server.session import DatastoreState
from gateway.syncml.codes import AlertCode
from gateway.syncml.model import Delete


def collect(tx, ds: DatastoreState, *, username: str, device_id: str) -> list[Op]:
    """The operations (Op: kind, guid, luid) of our package for one datastore."""
    received = ds.received
    ops: list[Op] = []
    seen: set[str] = set()
    for op in ds.sendback:
        if op.source not in seen:
            ops.append(op)
            seen.add(op.source)
    sends = MODES[ds.mode].server_sends
    if sends is Sends.NOTHING:
        return ops
    mapping = tx.get_map(device_id, username, ds.name)
    luid_of = {g: l for l, g in mapping.items()}
    if sends is Sends.ALL:
        for guid in tx.list_guids(username, ds.name):
            if guid in received or guid in seen:
                continue
            if ds.mode == AlertCode.SLOW_SYNC and guid in luid_of:
                continue          # paired during this slow sync
            ops.append(Op(ADD, guid, None))
    else:
        _changes(tx, ds, ops, seen, luid_of, username=username, device_id=device_id)
    if ds.record_filter:
        ops = _filtered(tx, ds, ops, len(seen), luid_of, username=username)
    return ops


def _changes(tx, ds: DatastoreState, ops: list, seen: set, luid_of: dict, *,
             username: str, device_id: str) -> None:
    received = ds.received
    for ch in tx.changes_since(username, ds.name, ds.base_rev):
        if ch.guid in received or ch.guid in seen or ch.changed_by == device_id:
            continue
        luid = luid_of.get(ch.guid)
        if ch.deleted:
            if luid is not None:
                ops.append(Op(DELETE, ch.guid, luid))
        elif luid is not None:
            ops.append(Op(REPLACE, ch.guid, luid))
        else:
            ops.append(Op(ADD, ch.guid, None))


def _filtered(tx, ds: DatastoreState, ops: list, kept: int, luid_of: dict, *,
              username: str) -> list:
    """``ops`` without the items the record filter rejects (the first ``kept``, the
    conflict results, always stay); EXCLUSIVE: Deletes for the client's copies."""
    flt = RecordFilter.from_dict(ds.record_filter)
    out = ops[:kept]
    listed = {op.source for op in ops}
    for op in ops[kept:]:
        kind, guid, luid = op
        item = None if kind == DELETE else tx.get_item(username, ds.name, guid)
        if item is None or flt.accepts(bytes(item.data)):
            out.append(op)
        elif flt.exclusive and luid is not None:
            out.append(Op(DELETE, guid, luid))
    if flt.exclusive:
        for guid, luid in luid_of.items():
            if guid in listed or guid in ds.received:
                continue
            item = tx.get_item(username, ds.name, guid)
            if item is not None and not flt.accepts(bytes(item.data)):
                out.append(Op(DELETE, guid, luid))
    return out


def pick_type(stored_type: str, client_rx: list[list[str]]) -> str:
    """The content type to send: the stored one if the client takes it, else its first."""
    if not client_rx:
        return stored_type
    accepted = [t.lower() for t, _ in client_rx]
    if stored_type.lower() in accepted:
        return stored_type
    return client_rx[0][0]


def render(tx, ds: DatastoreState, op: Op, *, username: str) -> tuple[str, bytes, str] | None:
    """(op, data, content type) for one operation, None if the item is gone meanwhile."""
    kind, guid, _ = op
    if kind == DELETE:
        return kind, b"", ""
    item = tx.get_item(username, ds.name, guid)
    if item is None:
        return None
    ct = pick_type(item.content_type, ds.client_rx)
    data = bytes(item.data)
    if ct.lower() != item.content_type.lower():
        converted = contentops.convert(data, item.content_type, ct)
        if converted is None:
            ct = item.content_type
        else:
            data = converted
    if ds.field_filter:
        data = fieldfilter.strip(data, frozenset(ds.field_filter))
    return kind, data, ct


def sent_content(cmd, chunk: dict | None) -> list:
    """What the client holds once it accepts ``cmd``, kept until its Status comes:
    [payload, format] of the whole item (the text as sent, Format "b64" or None); [] for
    a Delete and for a chunk that does not end its item. ``chunk``: the large object
    whose last piece ``cmd`` is, if it is one."""
    if isinstance(cmd, Delete) or not cmd.items or cmd.items[0].more_data:
        return []
    if chunk is not None:
        wire = base64.b64decode(chunk["wire"])
        return [wire.decode("utf-8", "surrogateescape"), chunk["fmt"]]
    data = cmd.items[0].data
    if not isinstance(data, str):
        return []
    return [data, cmd.meta.format if cmd.meta is not None else None]


def sent_bytes(payload: str, fmt: str | None) -> bytes:
    """The item bytes of a ``sent_content`` payload."""
    if fmt == "b64":
        return base64.b64decode(payload)
    return payload.encode("utf-8", "surrogateescape")

