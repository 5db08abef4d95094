"""The server's message as the client engine takes it (omads-protocol.md §3.4, §3.8):
Statuses for our Alerts, items and Maps (``apply_status``); the server's commands
(``apply_command``: its sync Alerts with mode and anchors, its Sync, applied by items.py,
DevInf Put/Results and Get), each answered in the ``Reply`` being collected. Commands go
to their handler by class (``COMMANDS``), Alerts by code (``ALERTS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.ds import commands
from gateway.ds.client import items as client_items
from gateway.ds.client.devinf import client_devinf
from gateway.ds.client.run import DatastoreRun, run_for
from gateway.ds.client.settings import ClientSettings
from gateway.ds.client.state import ClientState
from gateway.ds.devinf_exchange import devinf_of_items, is_devinf_uri, results
from gateway.ds.modes import MODES
from gateway.ds.ops import ADD, DELETE, Op
from gateway.syncml import codec
from gateway.syncml.codes import AlertCode, StatusCode, is_success
from gateway.syncml.devinf import DevInf
from gateway.syncml.metinf import Anchor
from gateway.syncml.model import (
    Alert, Get, Item, Put, Results, Status, Sync, SyncHdr, command_name,
)

CONFLICT_CODES = (StatusCode.CONFLICT_MERGED, StatusCode.CONFLICT_CLIENT_WON,
                  StatusCode.CONFLICT_DUPLICATE, StatusCode.CONFLICT_SERVER_WON)
# A sync Alert is answered with 200, 508 (slow sync needed) or, to a Resume, 509.
ALERT_ACCEPTED = (StatusCode.OK, StatusCode.REFRESH_REQUIRED)


@dataclass
class ServerInfo:
    """What the server told us about itself in this session."""

    max_msg_size: int = 0
    max_obj_size: int | None = None
    large_objs: bool = False
    devinf: DevInf | None = None


class Reply:
    """Our answer to one server message, being collected: Statuses, then commands."""

    def __init__(self, hdr: SyncHdr):
        self.msg_id = hdr.msg_id
        self.statuses: list = [commands.header_status(hdr, StatusCode.OK)]
        self.commands: list = []

    def status(self, cmd, name: str, code: int, *, target: str | None = None,
               source: str | None = None, items: tuple[Item, ...] = ()) -> None:
        if not getattr(cmd, "no_resp", False):
            self.statuses.append(commands.status(self.msg_id, cmd, name, code, target=target,
                                                 source=source, items=items))


@dataclass
class Inbound:
    """What the handlers of the server's commands read and change."""

    settings: ClientSettings
    state: ClientState
    runs: dict[str, DatastoreRun]
    server: ServerInfo
    reply: Reply
    resumed: dict[str, frozenset[str]] = field(default_factory=dict)  # LUIDs sent before
    settled: list[tuple[str, int]] = field(default_factory=list)      # (datastore, mode)


# -- Statuses for what we sent -----------------------------------------------------------
def apply_status(st: Status, runs: dict[str, DatastoreRun],
                 inflight: dict[str, tuple[str, Op]],
                 map_inflight: dict[str, tuple[str, list[str]]]) -> None:
    key = f"{st.msg_ref}:{st.cmd_ref}"
    if st.cmd == "Alert":
        run = _run_for_alert_status(runs, st)
        if run is not None:
            run.alert_status = st.data
            if st.data not in ALERT_ACCEPTED and not (
                    run.asked == AlertCode.RESUME and st.data == StatusCode.CANNOT_RESUME):
                run.failed = f"the server refused the Alert (status {st.data})"
        return
    if st.cmd == "Map":
        entry = map_inflight.pop(key, None)
        if entry is not None and is_success(st.data):
            run = runs[entry[0]]
            for luid in entry[1]:
                guid = run.memory.pending_map.pop(luid, None)
                if guid is not None:
                    run.memory.map[luid] = guid
        return
    sent = inflight.get(key)
    if sent is None or st.data == StatusCode.CHUNK_ACCEPTED:   # a chunk of a large object
        return
    del inflight[key]
    name, op = sent
    run = runs[name]
    if st.data in CONFLICT_CODES:
        run.counters.conflicts += 1
    if not (is_success(st.data) or st.data == StatusCode.CONFLICT_SERVER_WON):
        run.counters.refused_by_server += 1
        return
    if op.kind == DELETE:
        run.store.forget(op.source)
        run.unmap(op.source)
        run.counters.remote_deleted += 1
    else:
        run.store.mark_synced(op.source)
        if op.kind == ADD:
            run.counters.remote_added += 1
        else:
            run.counters.remote_updated += 1
    run.acked.append(op.source)


def _run_for_alert_status(runs: dict[str, DatastoreRun], st: Status) -> DatastoreRun | None:
    for ref in (*st.source_refs, *st.target_refs):
        for run in runs.values():
            if ref in (run.local_uri, run.remote_uri):
                return run
    return next(iter(runs.values())) if len(runs) == 1 else None


# -- the server's commands -----------------------------------------------------------------
def apply_command(inb: Inbound, cmd) -> None:
    handler = COMMANDS.get(type(cmd), _not_supported)
    handler(inb, cmd)


def _not_supported(inb: Inbound, cmd) -> None:
    inb.reply.status(cmd, command_name(cmd), StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)


def _alert(inb: Inbound, cmd: Alert) -> None:
    ALERTS.get(cmd.data or 0, _not_supported)(inb, cmd)


def _alert_ok(inb: Inbound, cmd: Alert) -> None:
    inb.reply.status(cmd, "Alert", StatusCode.OK)


def _restart_chunk(inb: Inbound, cmd: Alert) -> None:
    for run in inb.runs.values():
        run.out_chunk = None          # send our large object again from its start
    inb.reply.status(cmd, "Alert", StatusCode.OK)


def _sync_alert(inb: Inbound, alert: Alert) -> None:
    item = alert.items[0] if alert.items else None
    uri = commands.alert_datastore_uri(alert) or ""
    run = run_for(inb.runs, uri)
    if run is None:
        inb.reply.status(alert, "Alert", StatusCode.NOT_FOUND, target=uri)
        return
    anchor = item.meta.anchor if item is not None and item.meta is not None else None
    run.server_next = anchor.next if anchor is not None else None
    if alert.data == AlertCode.RESUME:
        resume = run.memory.resume
        run.mode = resume.mode if resume is not None else int(AlertCode.TWO_WAY)
        inb.resumed[run.local_uri] = frozenset(resume.sent if resume else ())
    else:
        run.mode = alert.data
    inb.settled.append((run.local_uri, run.mode))
    if item is not None and item.meta is not None and item.meta.max_obj_size:
        inb.server.max_obj_size = item.meta.max_obj_size
    inb.reply.status(alert, "Alert", StatusCode.OK, target=item.target_uri if item else None,
                     source=item.source_uri if item else None,
                     items=(Item(data=Anchor(next=run.server_next)),) if run.server_next
                     else ())


def _sync(inb: Inbound, cmd: Sync) -> None:
    target = cmd.target.loc_uri if cmd.target else ""
    run = run_for(inb.runs, target)
    if run is None or run.mode is None:
        inb.reply.status(cmd, "Sync", StatusCode.NOT_FOUND, target=target)
        return
    inb.reply.status(cmd, "Sync", StatusCode.OK, target=target,
                     source=cmd.source.loc_uri if cmd.source else None)
    client_items.apply_sync(run, cmd, inb.reply.status, inb.reply.commands,
                            max_obj_size=inb.settings.max_obj_size)


def _devinf(inb: Inbound, cmd: Put | Results) -> None:
    devinf = devinf_of_items(cmd.items, codec.DEFAULT_LIMITS)
    if devinf is not None:
        inb.server.devinf = devinf
        inb.server.large_objs = devinf.support_large_objs
        inb.state.server_devinf[inb.settings.url] = codec.encode_devinf(
            devinf, codec.XML).decode("utf-8")
    if isinstance(cmd, Put):
        inb.reply.status(cmd, "Put", StatusCode.OK if devinf is not None
                         else StatusCode.UNSUPPORTED_MEDIA_TYPE)


def _get(inb: Inbound, cmd: Get) -> None:
    uri = next((i.target_uri for i in cmd.items if i.target_uri), None)
    if not is_devinf_uri(uri):
        inb.reply.status(cmd, "Get", StatusCode.NOT_FOUND, target=uri)
        return
    inb.reply.status(cmd, "Get", StatusCode.OK, target=uri)
    s = inb.settings
    inb.reply.commands.append(results(cmd, inb.reply.msg_id, client_devinf(s),
                                      ver_dtd=s.ver_dtd, encoding=s.encoding))


COMMANDS = {Alert: _alert, Sync: _sync, Put: _devinf, Results: _devinf, Get: _get}
# any other command: 406

ALERTS = {
    **{code: _sync_alert for code in (*MODES, AlertCode.RESUME)},
    AlertCode.NEXT_MESSAGE: _alert_ok, AlertCode.DISPLAY: _alert_ok,
    AlertCode.RESULT_ALERT: _alert_ok,
    AlertCode.NO_END_OF_DATA: _restart_chunk,
}   # any other code: 406
