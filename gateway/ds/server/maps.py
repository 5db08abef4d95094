"""Map commands (package 5; omads-protocol.md §3.8): the client's LUIDs for our GUIDs,
and the client's Statuses for items we sent, which make them merge bases.

A Map names our datastore in Target and carries MapItems (Target = our GUID, Source =
the client's LUID). It may arrive in the same session, mid-package, or in the next
session (when the previous one ended before the client sent it).

An item we sent and the client accepted (200/201) is what both sides now hold, so it
becomes the mapping's base: a Replace's at once (queued, ``MessageContext.agree``), an
Add's when the Map names its LUID (kept in ``DatastoreState.acked`` until then; a Map
that only comes in a later session leaves that item without a base). A Delete the client
confirmed (200/211) drops the mapping, base included.
"""

from __future__ import annotations

from gateway.ds.ops import ADD, DELETE
from gateway.ds.server import outgoing
from gateway.ds.server.context import MessageContext
from gateway.ds.server.session import DatastoreState, InFlight
from gateway.syncml.codes import StatusCode
from gateway.syncml.model import Map

# The client stored exactly what we sent (207/208/209: it did not).
ACCEPTED = (StatusCode.OK, StatusCode.ITEM_ADDED)
DELETED = (StatusCode.OK, StatusCode.ITEM_NOT_DELETED)     # the item is gone from the client


def handle_map(ctx: MessageContext, cmd: Map) -> None:
    target = cmd.target.loc_uri if cmd.target else ""
    source = cmd.source.loc_uri if cmd.source else ""
    dss = ctx.settings.datastore(target)
    if dss is None:
        ctx.status(cmd, "Map", StatusCode.NOT_FOUND, target=target, source=source)
        return
    pairs = [(mi.source.loc_uri, mi.target.loc_uri) for mi in cmd.map_items
             if mi.source and mi.target and mi.source.loc_uri and mi.target.loc_uri]
    if len(pairs) != len(cmd.map_items):
        ctx.status(cmd, "Map", StatusCode.INCOMPLETE_COMMAND, target=target, source=source)
        return
    ds = ctx.state.datastores.get(dss.name)
    acked = ds.acked if ds is not None else {}
    if acked:
        with_base = [(luid, guid, outgoing.sent_bytes(*acked.pop(guid)))
                     for luid, guid in pairs if guid in acked]
        ctx.tx.put_bases(ctx.device_id, ctx.username, dss.name, with_base)
        named = {luid for luid, _, _ in with_base}
        pairs_left = [(luid, guid) for luid, guid in pairs if luid not in named]
    else:
        pairs_left = pairs
    if pairs_left:
        ctx.tx.put_mappings(ctx.device_id, ctx.username, dss.name, pairs_left)
    ctx.remember_maps(dss.name, pairs)
    ctx.status(cmd, "Map", StatusCode.OK, target=target, source=source)


def acknowledged(ctx: MessageContext, ds: DatastoreState, entry: InFlight, code: int) -> None:
    """The client's 2xx Status for one of our commands (``SessionState.inflight`` entry)."""
    guid, luid = entry.guid, entry.luid
    if entry.kind == DELETE:
        if luid and code in DELETED:
            ctx.agree(ds.name, luid, guid, None)
        return
    if code not in ACCEPTED or entry.payload is None:
        return
    if entry.kind == ADD:
        ds.acked[guid] = [entry.payload, entry.fmt]
    elif luid:
        ctx.agree(ds.name, luid, guid, outgoing.sent_bytes(entry.payload, entry.fmt))
