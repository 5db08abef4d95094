"""Sync-type negotiation and anchors (omads-protocol.md §3.1, §3.8, §3.9).

The client's Last anchor must equal the Next it sent at the end of the last good sync
(SyncState.client_anchor); otherwise, or for an unknown device, the Alert gets 508 and
our Alert asks for a slow sync (201). 206..210 from old phones are read as 200..205.
Resume (225) continues a suspended sync when we kept its state and the anchors agree;
otherwise it is answered like a two-way Alert (200, or 508 + 201). Suspend (224) is
handled by the engine.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gateway.ds import devinf_exchange
from gateway.ds.context import MessageContext
from gateway.ds.session import ALERTED, DatastoreState, ResumeState, resume_key
from gateway.syncml.codes import AlertCode
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import Alert, Item, Location

NEEDS_ANCHORS = (200, 202, 204)
RESUME_KEEP = 7 * 86400.0


def new_anchor(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def alert_datastore_uri(alert: Alert) -> str | None:
    if not alert.items:
        return None
    item = alert.items[0]
    return item.target_uri or item.source_uri     # Sony Ericsson C510: Source only


def handle_sync_alert(ctx: MessageContext, alert: Alert, client_devinf) -> None:
    code = alert.data or 0
    item = alert.items[0] if alert.items else None
    target = alert_datastore_uri(alert)
    source = item.source_uri if item is not None else None
    if item is None or not target:
        ctx.status(alert, "Alert", 412)
        return
    dss = ctx.settings.datastore(target)
    if dss is None:
        ctx.status(alert, "Alert", 404, target=target, source=source)
        return
    if 206 <= code <= 210:
        code = int(AlertCode(code).client_form())
    anchor = item.meta.anchor if item.meta is not None else None
    last = anchor.last if anchor is not None else None
    nxt = anchor.next if anchor is not None else None
    tx, st = ctx.tx, ctx.state
    prev = tx.get_sync_state(st.device_id, ctx.username, dss.name)
    status = 200
    resumed = None
    if code == AlertCode.RESUME:
        if st.ver_dtd != "1.2":
            ctx.status(alert, "Alert", 406, target=target, source=source)
            return
        resumed = _load_resume(ctx, dss.name, last)
        if resumed is None:
            code = 200
    if resumed is not None:
        ds = resumed
        ds.alert_pkg, ds.resumed, ds.phase = st.client_pkg, True, ALERTED
        ds.client_uri, ds.server_uri = source or ds.client_uri, target
        ds.client_next = nxt or ds.client_next
        reply_code = int(AlertCode.RESUME)
    else:
        mode = code
        if mode in NEEDS_ANCHORS and (prev is None or not prev.client_anchor
                                      or (last or "") != prev.client_anchor):
            status, mode = 508, 201
        ds = DatastoreState(
            name=dss.name, client_uri=source or target, server_uri=target, mode=mode,
            alert_pkg=st.client_pkg, client_last=last, client_next=nxt,
            server_last=prev.server_anchor if prev is not None else None,
            server_next=new_anchor(ctx.now),
            base_rev=prev.synced_rev if (prev is not None and mode not in (201, 205)) else 0)
        reply_code = mode
    ds.client_rx = devinf_exchange.client_rx(client_devinf, ds.client_uri)
    st.datastores[dss.name] = ds
    ctx.status(alert, "Alert", status, target=target, source=source,
               items=(Item(data=Anchor(next=nxt)),) if nxt is not None else ())
    meta = Meta(anchor=Anchor(last=ds.server_last, next=ds.server_next),
                max_obj_size=ctx.settings.max_obj_size if st.ver_dtd != "1.0" else None)
    ctx.commands.append(Alert(data=reply_code, items=(Item(
        target=Location(loc_uri=ds.client_uri), source=Location(loc_uri=target), meta=meta),)))
    ctx.note("sync alert", datastore=dss.name, code=code, mode=reply_code, status=status)


def _load_resume(ctx: MessageContext, name: str, last: str | None) -> DatastoreState | None:
    key = resume_key(ctx.device_id, ctx.username, name)
    raw = ctx.tx.load_session(key)
    if raw is None:
        return None
    ctx.tx.delete_session(key)
    try:
        saved = ResumeState.from_bytes(bytes(raw))
    except (ValueError, KeyError, TypeError):
        return None
    if (saved.datastore.client_last or "") != (last or ""):
        return None
    return saved.datastore


def suspend(ctx: MessageContext) -> int:
    """Keep what every unfinished datastore sync needs to resume; returns how many."""
    kept = 0
    st = ctx.state
    inflight_by_ds: dict[str, list] = {}
    for entry in st.inflight.values():
        inflight_by_ds.setdefault(entry[0], []).append([entry[1], entry[2], entry[3]])
    for ds in st.datastores.values():
        if ds.phase == "done":
            continue
        unacked = [op for op in inflight_by_ds.get(ds.name, []) if op not in ds.pending]
        ds.pending.prepend(unacked)
        ds.out_chunk = None
        ds.in_chunk = None
        ctx.tx.save_session(resume_key(st.device_id, ctx.username, ds.name),
                            ResumeState(datastore=ds, suspended_at=ctx.now).to_bytes(),
                            expires=ctx.now + RESUME_KEEP)
        kept += 1
    return kept
