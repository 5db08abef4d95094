"""The server engine: one decoded client message + session state -> the reply message.

Runs inside the caller's store transaction; raises StoreError to have the whole message
rolled back (handler.py then answers with error statuses). Package flow per
omads-protocol.md §3.8 (the phases: phases.py); bookkeeping per §3.4; multi-message
packages per §3.7. Each command goes to its handler by its class (``COMMANDS``), each
Alert by its code (``ALERTS``).
"""

from __future__ import annotations

import base64
from typing import Callable

from gateway.ds import devinf_exchange
from gateway.ds.auth import Authenticator
from gateway.ds.commands import alert_datastore_uri, header_status, next_message_alert
from gateway.ds.hmac import HmacHeader
from gateway.ds.ops import OpQueue
from gateway.ds.packaging import Packer, SyncSource, status_only
from gateway.ds.server import alerts, atomic, maps, outgoing, report, syncdata
from gateway.ds.server.context import MessageContext
from gateway.ds.server.phases import (
    AWAITING_CLIENT, DatastoreInput, DatastorePhase, SessionInput, SessionPhase)
from gateway.ds.server.session import InFlight, SessionState, aside_device
from gateway.ds.settings import ServerSettings
from gateway.store.base import StoreError, SyncState
from gateway.syncml import codec
from gateway.syncml.codes import AlertCode, StatusCode, is_success
from gateway.syncml.metinf import Meta
from gateway.syncml.model import (
    Alert, Atomic, Get, Location, Map, Message, Put, Results, Sequence, Status, Sync,
    SyncBody, SyncHdr, UnknownCommand, command_name,
)

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
# The Alerts that start (or resume) a datastore sync; 206..210 are read as 200..205.
SYNC_ALERTS = frozenset({*(c for c in AlertCode if c.is_sync), AlertCode.RESUME})
AUTH_REFUSED = (StatusCode.INVALID_CREDENTIALS, StatusCode.MISSING_CREDENTIALS)


def encoder(encoding: str) -> Callable[[Message], bytes]:
    return lambda msg: codec.encode_message(msg, encoding)


class Engine:
    def __init__(self, settings: ServerSettings, *, log: Callable[..., None] | None,
                 random_bytes: Callable[[int], bytes]):
        self.settings = settings
        self.log = log
        self.auth = Authenticator(settings, random_bytes)

    # -- the reply header ------------------------------------------------------------
    # RespURI only where the client addresses messages by URL (HTTP). Over OBEX the link
    # is the session, and a RespURI there confused phones (Nokia N900, omads-protocol §8.2).
    def header(self, state: SessionState, base_url: str) -> SyncHdr:
        meta = Meta(max_msg_size=self.settings.max_msg_size,
                    max_obj_size=self.settings.max_obj_size if state.ver_dtd != "1.0" else None)
        return SyncHdr(ver_dtd=state.ver_dtd, ver_proto=state.ver_proto,
                       session_id=state.session_id, msg_id=str(state.out_msg_id),
                       target=Location(loc_uri=state.device_id),
                       source=Location(loc_uri=state.server_uri),
                       resp_uri=_resp_uri(base_url, state.key), meta=meta)

    def limit(self, state: SessionState) -> int:
        return max(state.client_max_msg_size or self.settings.default_peer_max_msg_size,
                   self.settings.min_peer_max_msg_size)

    # -- one message -----------------------------------------------------------------
    def process(self, tx, state: SessionState, msg: Message, *, encoding: str, base_url: str,
                now: float, peer: str, mac_header: HmacHeader | None = None,
                body: bytes = b"") -> tuple[Message, bytes, bool]:
        """The reply, its encoding, and whether the session ended with it. ``mac_header``
        is the transport's auth-MAC header, ``body`` the exact bytes it signs."""
        hdr = msg.header
        state.out_msg_id += 1
        if hdr.meta is not None:
            if hdr.meta.max_msg_size:
                state.client_max_msg_size = hdr.meta.max_msg_size
            if hdr.meta.max_obj_size:
                state.client_max_obj_size = hdr.meta.max_obj_size
        ctx = MessageContext(tx=tx, settings=self.settings, state=state, now=now,
                             msg_id=hdr.msg_id, encoding=encoding, log=self.log)
        header = self.header(state, base_url)
        packer = Packer(encoder(encoding), header, self.limit(state), encoding=encoding)
        if hdr.ver_dtd not in SUPPORTED_VERSIONS:
            return *self._refuse_all(ctx, msg, header, packer,
                                     StatusCode.DTD_VERSION_NOT_SUPPORTED, None), True
        if state.phase is SessionPhase.AUTHENTICATING:
            outcome = self._authenticate(ctx, msg, peer, mac_header, body)
            if not outcome.ok:
                code = (outcome.status if outcome.status in AUTH_REFUSED
                        else StatusCode.INVALID_CREDENTIALS)
                reply, body = self._refuse_all(ctx, msg, header, packer, code, outcome,
                                               hdr_code=outcome.status)
                return reply, body, False
            hdr_st = header_status(hdr, outcome.status, outcome.chal)
        else:
            hdr_st = header_status(hdr, StatusCode.OK)
        suspend = False
        for cmd in msg.commands:
            if not isinstance(cmd, Status):
                ctx.flush_bases()       # acknowledgements first, in command order
            try:
                if self._dispatch(ctx, cmd, packer):
                    suspend = True
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug must not kill the session
                ctx.note("command failed", command=command_name(cmd), error=repr(exc))
                ctx.status(cmd, command_name(cmd), StatusCode.COMMAND_FAILED)
        ctx.flush_bases()
        if msg.final:
            state.client_pkg += 1
            syncdata.end_of_package(ctx)
        if suspend:
            alerts.suspend(ctx)
            plan = packer.plan([hdr_st], self._queue(state) + ctx.statuses + ctx.commands, [],
                               allow_syncs=False)
            return *packer.reply(plan, True), True
        if msg.final:
            self._want_devinf(ctx)
            for ds in state.datastores.values():
                if ds.phase in AWAITING_CLIENT and state.client_pkg >= ds.alert_pkg + 2:
                    self._start_sending(ctx, ds)
        return self._reply(ctx, msg, header, packer, hdr_st)

    def _authenticate(self, ctx: MessageContext, msg: Message, peer: str,
                      mac_header: HmacHeader | None, body: bytes):
        hdr, state = msg.header, ctx.state
        cred = hdr.cred
        alerts_ = [c for c in msg.commands if isinstance(c, Alert)]
        if cred is None:
            cred = next((a.cred for a in alerts_ if a.cred is not None), None)
        dss = [self.settings.datastore(alert_datastore_uri(a)) for a in alerts_
               if a.data in SYNC_ALERTS]
        anonymous_ok = bool(dss) and all(d is not None and d.allow_anonymous for d in dss)
        loc_name = hdr.source.loc_name if hdr.source else None
        outcome = self.auth.authenticate(ctx.tx, cred=cred, device_id=state.device_id,
                                         loc_name=loc_name, peer=peer, now=ctx.now,
                                         anonymous_ok=anonymous_ok, mac_header=mac_header,
                                         body=body)
        if outcome.ok:
            state.advance(SessionInput.AUTHENTICATED)
            state.username = outcome.username or ""
        if not outcome.ok:
            state.auth_detail = outcome.reason
        ctx.note("authentication", status=outcome.status, peer=peer, account=outcome.account,
                 scheme=outcome.scheme, reason=outcome.reason)
        return outcome

    def _refuse_all(self, ctx, msg, header, packer, code, outcome,
                    hdr_code=None) -> tuple[Message, bytes]:
        chal = outcome.chal if outcome is not None else None
        first = [header_status(msg.header, hdr_code or code, chal)]
        for cmd in msg.commands:
            if not isinstance(cmd, Status):
                ctx.status(cmd, command_name(cmd), code)
        plan = packer.plan(first, ctx.statuses, [], allow_syncs=False)
        return packer.reply(plan, msg.final)

    # -- commands (the tables COMMANDS and ALERTS below) ----------------------------------
    def _dispatch(self, ctx: MessageContext, cmd, packer: Packer) -> bool:
        """Handle one command; True when it asks to suspend the session."""
        handler = COMMANDS.get(type(cmd), Engine._not_supported)
        return bool(handler(self, ctx, cmd, packer))

    def _alert(self, ctx: MessageContext, cmd: Alert, packer: Packer) -> bool | None:
        return ALERTS.get(cmd.data or 0, Engine._alert_not_supported)(self, ctx, cmd)

    def _sync_alert(self, ctx: MessageContext, cmd: Alert) -> None:
        devinf = devinf_exchange.load_client_devinf(ctx.tx, ctx.device_id,
                                                    self.settings.limits)
        alerts.handle_sync_alert(ctx, cmd, devinf)

    def _suspend_alert(self, ctx: MessageContext, cmd: Alert) -> bool:
        ctx.status(cmd, "Alert", StatusCode.OK)
        return True

    def _restart_chunk(self, ctx: MessageContext, cmd: Alert) -> None:
        for ds in ctx.state.datastores.values():
            ds.out_chunk = None          # restart the object from its beginning
        ctx.status(cmd, "Alert", StatusCode.OK)

    def _alert_ok(self, ctx: MessageContext, cmd: Alert) -> None:
        ctx.status(cmd, "Alert", StatusCode.OK)

    def _alert_not_supported(self, ctx: MessageContext, cmd: Alert) -> None:
        ctx.status(cmd, "Alert", StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)

    def _sync(self, ctx: MessageContext, cmd: Sync, packer: Packer) -> None:
        syncdata.handle_sync(ctx, cmd)

    def _map(self, ctx: MessageContext, cmd: Map, packer: Packer) -> None:
        maps.handle_map(ctx, cmd)

    def _atomic(self, ctx: MessageContext, cmd: Atomic, packer: Packer) -> bool:
        return any(atomic.run(ctx, cmd, lambda c: self._dispatch(ctx, c, packer)))

    def _sequence(self, ctx: MessageContext, cmd: Sequence, packer: Packer) -> bool:
        ctx.status(cmd, command_name(cmd), StatusCode.OK)
        return any([self._dispatch(ctx, c, packer) for c in cmd.commands])

    def _unknown(self, ctx: MessageContext, cmd: UnknownCommand, packer: Packer) -> None:
        ctx.status(cmd, command_name(cmd), StatusCode.NOT_IMPLEMENTED)

    def _not_supported(self, ctx: MessageContext, cmd, packer: Packer) -> None:
        ctx.status(cmd, command_name(cmd), StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED)

    def _devinf_in(self, ctx: MessageContext, cmd: Put | Results, packer: Packer) -> None:
        name = command_name(cmd)
        uri = next((i.source_uri for i in cmd.items if i.source_uri), None)
        devinf = devinf_exchange.devinf_of_items(cmd.items, self.settings.limits)
        if devinf is None:
            ctx.status(cmd, name, StatusCode.UNSUPPORTED_MEDIA_TYPE if cmd.items
                       else StatusCode.INCOMPLETE_COMMAND, source=uri)
            return
        devinf_exchange.store_client_devinf(ctx.tx, ctx.device_id, ctx.state.username, devinf,
                                            ctx.now)
        ctx.state.client_large_objs = devinf.support_large_objs
        for ds in ctx.state.datastores.values():
            ds.client_rx = devinf_exchange.client_rx(devinf, ds.client_uri)
        ctx.status(cmd, name, StatusCode.OK, source=uri)

    def _get(self, ctx: MessageContext, cmd: Get, packer: Packer) -> None:
        uri = next((i.target_uri for i in cmd.items if i.target_uri), None)
        if not devinf_exchange.is_devinf_uri(uri):
            ctx.status(cmd, "Get", StatusCode.NOT_FOUND, target=uri)
            return
        ctx.status(cmd, "Get", StatusCode.OK, target=uri)
        st = ctx.state
        results = devinf_exchange.results_for_get(self.settings, cmd, ctx.msg_id, st.ver_dtd,
                                                  ctx.encoding)
        if packer.size(results) > packer.limit // 2:     # old/small clients: drop CTCap
            results = devinf_exchange.results_for_get(self.settings, cmd, ctx.msg_id,
                                                      st.ver_dtd, ctx.encoding, with_ctcaps=False)
        ctx.statuses.append(results)

    def _want_devinf(self, ctx: MessageContext):
        """Ask for the client's DevInf once when we know none and it alerted a sync."""
        st = ctx.state
        devinf = devinf_exchange.load_client_devinf(ctx.tx, st.device_id, self.settings.limits)
        if devinf is None and st.datastores and not st.sent_get_devinf:
            st.sent_get_devinf = True
            ctx.commands.append(devinf_exchange.get_devinf(st.ver_dtd, ctx.encoding))
        elif devinf is not None:
            st.client_large_objs = devinf.support_large_objs
        return devinf

    def _client_status(self, ctx: MessageContext, st: Status, packer: Packer) -> None:
        entry = ctx.state.inflight.pop(f"{st.msg_ref}:{st.cmd_ref}", None)
        if entry is None:
            return
        ds = ctx.state.datastores.get(entry.datastore)
        if ds is not None:
            report.count_out(ds.stats, entry.kind, st.data)
        if ds is not None and not is_success(st.data):
            ds.failed_out += 1
            ctx.note("client refused our item", datastore=ds.name, guid=entry.guid,
                     status=st.data)
        elif ds is not None:
            maps.acknowledged(ctx, ds, entry, st.data)

    # -- our package ---------------------------------------------------------------------
    def _start_sending(self, ctx: MessageContext, ds) -> None:
        syncdata.prepare(ctx, ds)
        tx = ctx.tx
        if ds.mode == AlertCode.REFRESH_FROM_SERVER and not ds.resumed:
            tx.clear_map(ctx.device_id, ctx.username, ds.name)
            ctx.forget_maps(ds.name)
        if ds.resumed and ds.snapshot_rev is not None:
            ds.pending.extend([op for op in ds.sendback if op not in ds.pending])
        else:
            ds.snapshot_rev = tx.current_rev(ctx.username, ds.name)
            ds.pending = OpQueue(outgoing.collect(tx, ds, username=ctx.username,
                                                  device_id=ctx.device_id))
        ds.sendback = []
        ds.total_out = len(ds.pending)
        ds.advance(DatastoreInput.SEND)

    def _queue(self, state: SessionState) -> list:
        if not state.queue:
            return []
        raw = base64.b64decode(state.queue)
        state.queue = ""
        return list(codec.decode_message(raw, codec.XML).commands)

    def _reply(self, ctx: MessageContext, msg: Message, header: SyncHdr, packer: Packer,
               hdr_st: Status) -> tuple[Message, bytes, bool]:
        st = ctx.state
        continuing = msg.final or st.phase is SessionPhase.SENDING_MORE
        queue = self._queue(st) + ctx.statuses + ctx.commands
        if not continuing and all(isinstance(c, Status) for c in queue):
            queue.append(next_message_alert(st.device_id, st.server_uri))
        sources = [SyncSource(name=ds.name, target=ds.client_uri, source=ds.server_uri,
                              pending=ds.pending, out_chunk=ds.out_chunk, total=ds.total_out,
                              render=self._renderer(ctx, ds),
                              large_objs=st.client_large_objs or bool(st.client_max_obj_size),
                              max_obj_size=st.client_max_obj_size, ver_1_0=st.ver_dtd == "1.0")
                   for ds in st.datastores.values() if ds.phase is DatastorePhase.SENDING]
        plan = packer.plan([hdr_st], queue, sources, allow_syncs=continuing)
        final = continuing and not plan.more
        syncs = [c for c in plan.commands if isinstance(c, Sync)]
        for part, sync in zip(plan.parts, syncs):
            ds = st.datastores[part.name]
            chunk = ds.out_chunk        # the large object the first command continues
            for cmd, op in zip(sync.commands, part.placed_ops):
                report.add_bytes(ds.stats, "out", sum(_size(i.data) for i in cmd.items))
                st.inflight[f"{header.msg_id}:{cmd.cmd_id}"] = InFlight(
                    ds.name, *op, *outgoing.sent_content(cmd, chunk))
                chunk = None
            ds.pending.drop(part.consumed)
            ds.out_chunk = part.out_chunk
            ds.sent += len(part.placed_ops)
            if part.skipped:
                ctx.note("items not sent (too large for the client, or gone)",
                         datastore=ds.name, count=part.skipped)
        for ds in st.datastores.values():
            if ds.phase is DatastorePhase.SENDING and not ds.pending and ds.out_chunk is None:
                ds.advance(DatastoreInput.SENT_ALL)
        if plan.leftover:
            blob = codec.encode_message(Message(header=SyncHdr(), body=SyncBody(
                commands=tuple(plan.leftover))), codec.XML)
            st.queue = base64.b64encode(blob).decode("ascii")
        st.advance(SessionInput.REPLIED_MORE if continuing and not final
                   else SessionInput.REPLIED)
        reply, body = packer.reply(plan, final)
        ended = (msg.final and final and status_only(plan.commands)
                 and all(ds.phase is DatastorePhase.DONE for ds in st.datastores.values()))
        if ended:
            self._finish(ctx)
        return reply, body, ended

    def _renderer(self, ctx: MessageContext, ds):
        return lambda op: outgoing.render(ctx.tx, ds, op, username=ctx.username)

    def _finish(self, ctx: MessageContext) -> None:
        """The session completed: remember anchors and revision per datastore (a one-way
        sync from the client withheld our changes: they stay to be sent)."""
        st = ctx.state
        for ds in st.datastores.values():
            if ds.mode == AlertCode.ONE_WAY_FROM_CLIENT or ds.failed_out:
                synced = ds.base_rev
            else:
                synced = ds.snapshot_rev if ds.snapshot_rev is not None else ds.base_rev
            ctx.tx.put_sync_state(SyncState(
                device_id=st.device_id, username=ctx.username, datastore=ds.name,
                client_anchor=ds.client_next or "", server_anchor=ds.server_next,
                synced_rev=synced))
            if ds.map_aside:
                ctx.tx.clear_map(aside_device(st.device_id), ctx.username, ds.name)
                ds.map_aside = False

    # -- failure -------------------------------------------------------------------------
    def failure_reply(self, state: SessionState, msg: Message, code: int, *, encoding: str,
                      base_url: str) -> tuple[Message, bytes]:
        """Every command of ``msg`` failed with ``code``; nothing of it was applied."""
        state.out_msg_id += 1
        header = self.header(state, base_url)
        packer = Packer(encoder(encoding), header, self.limit(state), encoding=encoding)
        ctx = MessageContext(tx=None, settings=self.settings, state=state, now=0.0,
                             msg_id=msg.header.msg_id, encoding=encoding)
        first = [header_status(msg.header, StatusCode.OK if state.authenticated else code)]
        ctx.status_all(msg.commands, code)
        plan = packer.plan(first, ctx.statuses, [], allow_syncs=False)
        return packer.reply(plan, msg.final)


COMMANDS = {
    Status: Engine._client_status, Alert: Engine._alert, Sync: Engine._sync, Map: Engine._map,
    Put: Engine._devinf_in, Results: Engine._devinf_in, Get: Engine._get,
    Atomic: Engine._atomic, Sequence: Engine._sequence, UnknownCommand: Engine._unknown,
}   # any other command: 406

ALERTS = {
    **{code: Engine._sync_alert for code in SYNC_ALERTS},
    AlertCode.SUSPEND: Engine._suspend_alert,
    AlertCode.NO_END_OF_DATA: Engine._restart_chunk,
    AlertCode.DISPLAY: Engine._alert_ok,
    AlertCode.RESULT_ALERT: Engine._alert_ok,
    AlertCode.NEXT_MESSAGE: Engine._alert_ok,
}   # any other code: 406


def _size(data) -> int:
    if isinstance(data, str):
        return len(data.encode("utf-8", "surrogateescape"))
    return len(data) if isinstance(data, bytes) else 0


def _resp_uri(base_url: str, key: str) -> str | None:
    if base_url.startswith(("http://", "https://")):
        return f"{base_url}?s={key}"
    return None
