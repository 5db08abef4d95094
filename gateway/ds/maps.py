"""Map commands (package 5; omads-protocol.md §3.8): the client's LUIDs for our GUIDs.

A Map names our datastore in Target and carries MapItems (Target = our GUID, Source =
the client's LUID). It may arrive in the same session, mid-package, or in the next
session (when the previous one ended before the client sent it).
"""

from __future__ import annotations

from gateway.ds.context import MessageContext
from gateway.syncml.model import Map


def handle_map(ctx: MessageContext, cmd: Map) -> None:
    target = cmd.target.loc_uri if cmd.target else ""
    source = cmd.source.loc_uri if cmd.source else ""
    dss = ctx.settings.datastore(target)
    if dss is None:
        ctx.status(cmd, "Map", 404, target=target, source=source)
        return
    pairs = [(mi.source.loc_uri, mi.target.loc_uri) for mi in cmd.map_items
             if mi.source and mi.target and mi.source.loc_uri and mi.target.loc_uri]
    if len(pairs) != len(cmd.map_items):
        ctx.status(cmd, "Map", 412, target=target, source=source)
        return
    ctx.tx.put_mappings(ctx.device_id, ctx.username, dss.name, pairs)
    ctx.remember_maps(dss.name, pairs)
    ctx.status(cmd, "Map", 200, target=target, source=source)
