"""Sync-type negotiation and anchors (omads-protocol.md §3.1, §3.8, §3.9).

The client's Last anchor must equal the Next it sent at the end of the last good sync
(SyncState.client_anchor); otherwise, or for an unknown device, the Alert gets 508 and
our Alert asks for a slow sync (201). 206..210 from old phones are read as 200..205.
Resume (225) continues a suspended sync when we kept its state and the anchors agree;
otherwise it is answered like a two-way Alert (200, or 508 + 201). Suspend (224) is
handled by the engine. A filter the Alert carries (Target/Filter, or a query after
``?`` in the target URI; filters.py) is kept in the DatastoreState; one we cannot apply
refuses the datastore's sync with its status (422, 406, 415) instead of sending all.
"""

from __future__ import annotations

from gateway.ds import devinf_exchange, filters
from gateway.ds.anchors import new_anchor
from gateway.ds.commands import alert_datastore_uri
from gateway.ds.fieldfilter import field_names
from gateway.ds.modes import MODES, Sends
from gateway.ds.server import report
from gateway.ds.server.context import MessageContext
from gateway.ds.server.phases import DatastoreInput, DatastorePhase
from gateway.ds.server.session import DatastoreState, ResumeState, resume_key
from gateway.syncml.codes import AlertCode, StatusCode
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import Alert, Filter, Item, Location

RESUME_KEEP = 7 * 86400.0


def handle_sync_alert(ctx: MessageContext, alert: Alert, client_devinf) -> None:
    code = alert.data or 0
    item = alert.items[0] if alert.items else None
    target = alert_datastore_uri(alert)
    source = item.source_uri if item is not None else None
    if item is None or not target:
        ctx.status(alert, "Alert", StatusCode.INCOMPLETE_COMMAND)
        return
    dss = ctx.settings.datastore(target)
    if dss is None:
        ctx.status(alert, "Alert", StatusCode.NOT_FOUND, target=target, source=source)
        return
    try:
        record, wanted = alert_filters(item, target, dss, ctx.now)
    except filters.FilterError as exc:
        ctx.status(alert, "Alert", exc.status, target=target, source=source)
        ctx.note("sync refused: filter", datastore=dss.name, status=exc.status, error=str(exc))
        return
    if AlertCode(code).server_alerted:
        code = int(AlertCode(code).client_form())
    anchor = item.meta.anchor if item.meta is not None else None
    last = anchor.last if anchor is not None else None
    nxt = anchor.next if anchor is not None else None
    tx, st = ctx.tx, ctx.state
    prev = tx.get_sync_state(st.device_id, ctx.username, dss.name)
    status = StatusCode.OK
    resumed = None
    if code == AlertCode.RESUME:
        if st.ver_dtd != "1.2":
            ctx.status(alert, "Alert", StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED,
                       target=target, source=source)
            return
        resumed = _load_resume(ctx, dss.name, last)
        if resumed is None:
            code = int(AlertCode.TWO_WAY)
    if resumed is not None:
        ds = resumed
        ds.alert_pkg, ds.resumed = st.client_pkg, True
        ds.advance(DatastoreInput.RESUME)
        ds.client_uri, ds.server_uri = source or ds.client_uri, target
        ds.client_next = nxt or ds.client_next
        reply_code = int(AlertCode.RESUME)
    else:
        mode = code
        if MODES[mode].needs_anchors and (prev is None or not prev.client_anchor
                                          or (last or "") != prev.client_anchor):
            status, mode = StatusCode.REFRESH_REQUIRED, int(AlertCode.SLOW_SYNC)
        ds = DatastoreState(
            name=dss.name, client_uri=source or target, server_uri=target, mode=mode,
            alert_pkg=st.client_pkg, client_last=last, client_next=nxt,
            server_last=prev.server_anchor if prev is not None else None,
            server_next=new_anchor(ctx.now),
            base_rev=prev.synced_rev if (prev is not None
                                         and MODES[mode].server_sends is not Sends.ALL) else 0)
        reply_code = mode
        ds.slow_reason = report.slow_reason(code, prev, last, MODES[code].needs_anchors)
    ds.started = ctx.now
    ds.client_rx = devinf_exchange.client_rx(client_devinf, ds.client_uri)
    if record is not None or resumed is None:
        ds.record_filter = record.to_dict() if record is not None else None
    if wanted is not None or resumed is None:
        ds.field_filter = list(wanted) if wanted is not None else None
    st.datastores[dss.name] = ds
    ctx.status(alert, "Alert", status, target=target, source=source,
               items=(Item(data=Anchor(next=nxt)),) if nxt is not None else ())
    meta = Meta(anchor=Anchor(last=ds.server_last, next=ds.server_next),
                max_obj_size=ctx.settings.max_obj_size if st.ver_dtd != "1.0" else None)
    ctx.commands.append(Alert(data=reply_code, items=(Item(
        target=Location(loc_uri=ds.client_uri), source=Location(loc_uri=target), meta=meta),)))
    ctx.note("sync alert", datastore=dss.name, code=code, mode=reply_code, status=status,
             slow_reason=ds.slow_reason)


def alert_filters(item: Item, target: str, dss, now: float
                  ) -> tuple[filters.RecordFilter | None, tuple[str, ...] | None]:
    """The record filter and the wanted properties an Alert Item asks for (FilterError
    when one cannot be applied). A query in the URI (DS 1.1 style) is INCLUSIVE."""
    expressions: list[str] = []
    window = None
    exclusive = False
    wanted = None
    _, sep, query = target.partition("?")
    if sep:
        uri = filters.parse_uri_query(query)
        if uri.expression:
            expressions.append(uri.expression)
        if uri.days is not None:
            window = filters.day_window(uri.days, now)
    flt = item.target.filter if item.target is not None else None
    if flt is not None:
        exclusive, expression, wanted = _filter_element(flt, dss)
        if expression:
            expressions.append(expression)
    if not expressions and window is None:
        return None, wanted
    expression = (expressions[0] if len(expressions) == 1
                  else "&AND;".join(f"({e})" for e in expressions) if expressions else None)
    return filters.RecordFilter(expression=expression, window=window,
                                exclusive=exclusive), wanted


def _filter_element(flt: Filter, dss) -> tuple[bool, str | None, tuple[str, ...] | None]:
    """(exclusive, CGI expression, wanted properties) of a DS 1.2 <Filter>; the checks
    and codes follow SYSYNC (omads-protocol.md §3.10)."""
    ftype = (flt.filter_type or filters.DEFAULT_FILTER_TYPE).strip().upper()
    if ftype not in (filters.INCLUSIVE, filters.EXCLUSIVE):
        raise filters.FilterError(f"FilterType {flt.filter_type!r}")
    ctype = flt.meta.type if flt.meta is not None else None
    if ctype and not dss.accepts(ctype):
        raise filters.FilterError(f"filter for type {ctype!r}", filters.UNSUPPORTED_TYPE)
    expression = None
    if flt.record is not None:
        grammar = flt.record.meta.type if flt.record.meta is not None else None
        if grammar and grammar.strip().lower() != filters.CGI_GRAMMAR:
            raise filters.FilterError(f"filter grammar {grammar!r}")
        data = flt.record.data
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        if not isinstance(data, str):
            raise filters.FilterError("record filter without an expression")
        if data.strip():
            filters.compile_cgi(data)
            expression = data
    wanted = field_names(flt.field.data) if flt.field is not None else None
    return ftype == filters.EXCLUSIVE, expression, wanted


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
        inflight_by_ds.setdefault(entry.datastore, []).append(entry.op)
    for ds in st.datastores.values():
        if ds.phase is DatastorePhase.DONE:
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
