"""Conflict resolution: an item changed on both sides since the last good sync.

Policies (DatastoreSettings.conflict_policy) and the status each yields
(omads-protocol.md §3.3): server-wins 419 (ours is sent back), client-wins 208,
duplicate 209 (keep both; ours goes to the client as a new item), merge 207 (field-level
merge stored and sent back: three-way against the mapping's base, the content the device
and we last agreed on, so a value deleted on one side stays deleted; on slow sync the base
of the set-aside map's row; two-way without one), newer-wins: the newer side by REV/LAST-MODIFIED vs our
modification time, merged when ``merge`` is on (207), else 208 or 419.
"""

from __future__ import annotations

from gateway.ds import contentops
from gateway.ds.ops import ADD, REPLACE, Op
from gateway.syncml.codes import AlertCode, StatusCode

LOOKUP = object()    # resolve's base: the one stored with the mapping


def resolve(ctx, ds, dss, server_item, luid: str, data: bytes, ct: str, *,
            base: bytes | None | object = LOOKUP) -> int:
    """Apply the policy for a client Replace (or a differing slow-sync pair; ``base``:
    the base its mapping had before the slow sync, if any)."""
    policy = dss.conflict_policy
    if policy == "newer-wins":
        client_t = contentops.modified_time(data)
        server_t = server_item.modified or contentops.modified_time(bytes(server_item.data))
        client_newer = client_t is None or not server_t or client_t >= server_t
        if dss.merge:
            code = _merge(ctx, ds, server_item, luid, data, ct,
                          "client" if client_newer else "server", base)
            if code:
                return code
        if client_newer:
            ctx.replace(ds, server_item.guid, luid, data, ct)
            return StatusCode.CONFLICT_CLIENT_WON
        return _server_wins(ctx, ds, server_item.guid, luid, base)
    if policy == "server-wins":
        return _server_wins(ctx, ds, server_item.guid, luid, base)
    if policy == "duplicate":
        ctx.add(ds, luid, data, ct)
        ds.sendback.append(Op(ADD, server_item.guid, None))
        return StatusCode.CONFLICT_DUPLICATE
    if policy == "merge":
        code = _merge(ctx, ds, server_item, luid, data, ct, "client", base)
        if code:
            return code
    ctx.replace(ds, server_item.guid, luid, data, ct)    # client-wins (and merge fallback)
    return StatusCode.CONFLICT_CLIENT_WON


def resolve_delete(ctx, ds, dss, server_item, luid: str) -> int:
    """The client deleted an item we changed: a change beats a delete except client-wins."""
    if dss.conflict_policy == "client-wins":
        ctx.delete(ds, server_item.guid, luid)
        return StatusCode.CONFLICT_CLIENT_WON
    ctx.unmap(ds, luid)
    ds.sendback.append(Op(ADD, server_item.guid, None))
    return StatusCode.CONFLICT_SERVER_WON


def _server_wins(ctx, ds, guid: str, luid: str, base=LOOKUP) -> int:
    ctx.mark_received(ds, guid)          # paired: do not send it as a new item
    if ds.mode == AlertCode.SLOW_SYNC and isinstance(base, bytes):
        ctx.map(ds, luid, guid, base=base)   # slow sync: the old base still holds
    ds.sendback.append(Op(REPLACE, guid, luid))
    return StatusCode.CONFLICT_SERVER_WON


def _merge(ctx, ds, server_item, luid, data, ct, prefer, base=LOOKUP) -> int | None:
    """Three-way against the base of luid -> guid when there is one (on slow sync: the
    one its mapping had before, passed in), else two-way. Until the client acknowledges
    the merged item we send back, the base is what it holds: its own data (on a slow
    sync without an old base: none, unless that is what we stored)."""
    if base is LOOKUP:
        base = ctx.base_of(ds, luid, server_item.guid)
    merged = contentops.merge3(base, bytes(server_item.data), data, ct, prefer)
    if merged is None:
        return None
    same = merged == data
    ctx.replace(ds, server_item.guid, luid, merged, ct,
                base=data if same or base is not None or ds.mode != AlertCode.SLOW_SYNC
                else None)
    if not same:
        ds.sendback.append(Op(REPLACE, server_item.guid, luid))
    return StatusCode.CONFLICT_MERGED
