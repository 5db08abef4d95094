"""The server engine: one decoded client message + session state -> the reply message.

Runs inside the caller's store transaction; raises StoreError to have the whole message
rolled back (server.py then answers with error statuses). Package flow per
omads-protocol.md §3.8; bookkeeping per §3.4; multi-message packages per §3.7.
"""

from __future__ import annotations

import base64
from typing import Callable

from gateway.ds.server import alerts, atomic, maps, outgoing, syncdata
from gateway.ds import devinf_exchange
from gateway.ds.auth import Authenticator
from gateway.ds.server.context import MessageContext
from gateway.ds.hmac import HmacHeader
from gateway.ds.packaging import Packer, SyncSource, status_only
from gateway.ds.server.session import (
    ALERTED, DONE, SENDING, OpQueue, SessionState, aside_device)
from gateway.ds.settings import ServerSettings
from gateway.store.base import StoreError, SyncState
from gateway.syncml import codec
from gateway.syncml.metinf import Meta
from gateway.syncml.model import (
    Alert, Atomic, Get, Item, Location, Map, Message, Put, Results, Sequence, Status, Sync,
    SyncBody, SyncHdr, UnknownCommand, command_name,
)

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")


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

    def hdr_status(self, msg: Message, code: int, chal=None) -> Status:
        h = msg.header
        return Status(msg_ref=h.msg_id, cmd_ref="0", cmd="SyncHdr",
                      target_refs=(h.target.loc_uri,) if h.target else (),
                      source_refs=(h.source.loc_uri,) if h.source else (), data=code, chal=chal)

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
            return *self._refuse_all(ctx, msg, header, packer, 505, None), True
        if not state.authenticated:
            outcome = self._authenticate(ctx, msg, peer, mac_header, body)
            if not outcome.ok:
                code = outcome.status if outcome.status in (401, 407) else 401
                reply, body = self._refuse_all(ctx, msg, header, packer, code, outcome,
                                               hdr_code=outcome.status)
                return reply, body, False
            hdr_st = self.hdr_status(msg, outcome.status, outcome.chal)
        else:
            hdr_st = self.hdr_status(msg, 200)
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
                ctx.status(cmd, command_name(cmd), 500)
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
                if ds.phase == ALERTED and state.client_pkg >= ds.alert_pkg + 2:
                    self._start_sending(ctx, ds)
        return self._reply(ctx, msg, header, packer, hdr_st)

    def _authenticate(self, ctx: MessageContext, msg: Message, peer: str,
                      mac_header: HmacHeader | None, body: bytes):
        hdr, state = msg.header, ctx.state
        cred = hdr.cred
        alerts_ = [c for c in msg.commands if isinstance(c, Alert)]
        if cred is None:
            cred = next((a.cred for a in alerts_ if a.cred is not None), None)
        dss = [self.settings.datastore(alerts.alert_datastore_uri(a)) for a in alerts_
               if a.data is not None and 200 <= a.data <= 225]
        anonymous_ok = bool(dss) and all(d is not None and d.allow_anonymous for d in dss)
        loc_name = hdr.source.loc_name if hdr.source else None
        outcome = self.auth.authenticate(ctx.tx, cred=cred, device_id=state.device_id,
                                         loc_name=loc_name, peer=peer, now=ctx.now,
                                         anonymous_ok=anonymous_ok, mac_header=mac_header,
                                         body=body)
        if outcome.ok:
            state.authenticated = True
            state.username = outcome.username or ""
        ctx.note("authentication", status=outcome.status, peer=peer)
        return outcome

    def _refuse_all(self, ctx, msg, header, packer, code, outcome,
                    hdr_code=None) -> tuple[Message, bytes]:
        chal = outcome.chal if outcome is not None else None
        first = [self.hdr_status(msg, hdr_code or code, chal)]
        for cmd in msg.commands:
            if not isinstance(cmd, Status):
                ctx.status(cmd, command_name(cmd), code)
        plan = packer.plan(first, ctx.statuses, [], allow_syncs=False)
        return packer.reply(plan, msg.final)

    # -- commands ----------------------------------------------------------------------
    def _dispatch(self, ctx: MessageContext, cmd, packer: Packer) -> bool:
        """Handle one command; True when it asks to suspend the session."""
        st = ctx.state
        if isinstance(cmd, Status):
            self._client_status(ctx, cmd)
        elif isinstance(cmd, Alert):
            code = cmd.data or 0
            if 200 <= code <= 210 or code == 225:
                devinf = devinf_exchange.load_client_devinf(ctx.tx, st.device_id,
                                                            self.settings.limits)
                alerts.handle_sync_alert(ctx, cmd, devinf)
            elif code == 224:
                ctx.status(cmd, "Alert", 200)
                return True
            elif code == 223:
                for ds in st.datastores.values():
                    ds.out_chunk = None          # restart the object from its beginning
                ctx.status(cmd, "Alert", 200)
            elif code in (100, 221, 222):
                ctx.status(cmd, "Alert", 200)
            else:
                ctx.status(cmd, "Alert", 406)
        elif isinstance(cmd, Sync):
            syncdata.handle_sync(ctx, cmd)
        elif isinstance(cmd, Map):
            maps.handle_map(ctx, cmd)
        elif isinstance(cmd, (Put, Results)):
            self._devinf_in(ctx, cmd)
        elif isinstance(cmd, Get):
            self._get(ctx, cmd, packer)
        elif isinstance(cmd, Atomic):
            return any(atomic.run(ctx, cmd, lambda c: self._dispatch(ctx, c, packer)))
        elif isinstance(cmd, Sequence):
            ctx.status(cmd, command_name(cmd), 200)
            return any([self._dispatch(ctx, c, packer) for c in cmd.commands])
        elif isinstance(cmd, UnknownCommand):
            ctx.status(cmd, command_name(cmd), 501)
        else:
            ctx.status(cmd, command_name(cmd), 406)
        return False

    def _devinf_in(self, ctx: MessageContext, cmd) -> None:
        name = command_name(cmd)
        uri = next((i.source_uri for i in cmd.items if i.source_uri), None)
        devinf = devinf_exchange.devinf_of_items(cmd.items, self.settings.limits)
        if devinf is None:
            ctx.status(cmd, name, 415 if cmd.items else 412, source=uri)
            return
        devinf_exchange.store_client_devinf(ctx.tx, ctx.device_id, ctx.state.username, devinf,
                                            ctx.now)
        ctx.state.client_large_objs = devinf.support_large_objs
        for ds in ctx.state.datastores.values():
            ds.client_rx = devinf_exchange.client_rx(devinf, ds.client_uri)
        ctx.status(cmd, name, 200, source=uri)

    def _get(self, ctx: MessageContext, cmd: Get, packer: Packer) -> None:
        uri = next((i.target_uri for i in cmd.items if i.target_uri), None)
        if not devinf_exchange.is_devinf_uri(uri):
            ctx.status(cmd, "Get", 404, target=uri)
            return
        ctx.status(cmd, "Get", 200, target=uri)
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
            ctx.commands.append(devinf_exchange.get_client_devinf(st.ver_dtd, ctx.encoding))
        elif devinf is not None:
            st.client_large_objs = devinf.support_large_objs
        return devinf

    def _client_status(self, ctx: MessageContext, st: Status) -> None:
        entry = ctx.state.inflight.pop(f"{st.msg_ref}:{st.cmd_ref}", None)
        if entry is None:
            return
        ds = ctx.state.datastores.get(entry[0])
        if ds is not None and not (200 <= st.data < 300):
            ds.failed_out += 1
            ctx.note("client refused our item", datastore=ds.name, guid=entry[2],
                     status=st.data)
        elif ds is not None:
            maps.acknowledged(ctx, ds, entry, st.data)

    # -- our package ---------------------------------------------------------------------
    def _start_sending(self, ctx: MessageContext, ds) -> None:
        syncdata.prepare(ctx, ds)
        tx = ctx.tx
        if ds.mode == 205 and not ds.resumed:
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
        ds.phase = SENDING

    def _queue(self, state: SessionState) -> list:
        if not state.queue:
            return []
        raw = base64.b64decode(state.queue)
        state.queue = ""
        return list(codec.decode_message(raw, codec.XML).commands)

    def _reply(self, ctx: MessageContext, msg: Message, header: SyncHdr, packer: Packer,
               hdr_st: Status) -> tuple[Message, bytes, bool]:
        st = ctx.state
        continuing = msg.final or st.our_package_open
        queue = self._queue(st) + ctx.statuses + ctx.commands
        if not continuing and all(isinstance(c, Status) for c in queue):
            queue.append(Alert(data=222, items=(Item(target=Location(loc_uri=st.device_id),
                                                     source=Location(loc_uri=st.server_uri)),)))
        sources = [SyncSource(ds=ds, render=self._renderer(ctx, ds),
                              large_objs=st.client_large_objs or bool(st.client_max_obj_size),
                              max_obj_size=st.client_max_obj_size, ver_1_0=st.ver_dtd == "1.0")
                   for ds in st.datastores.values() if ds.phase == SENDING]
        plan = packer.plan([hdr_st], queue, sources, allow_syncs=continuing)
        final = continuing and not plan.more
        syncs = [c for c in plan.commands if isinstance(c, Sync)]
        for part, sync in zip(plan.parts, syncs):
            ds = st.datastores[part.name]
            chunk = ds.out_chunk        # the large object the first command continues
            for cmd, op in zip(sync.commands, part.placed_ops):
                st.inflight[f"{header.msg_id}:{cmd.cmd_id}"] = [
                    ds.name, op[0], op[1], op[2], *outgoing.sent_content(cmd, chunk)]
                chunk = None
            ds.pending.drop(part.consumed)
            ds.out_chunk = part.out_chunk
            ds.sent += len(part.placed_ops)
            if part.skipped:
                ctx.note("items not sent (too large for the client, or gone)",
                         datastore=ds.name, count=part.skipped)
        for ds in st.datastores.values():
            if ds.phase == SENDING and not ds.pending and ds.out_chunk is None:
                ds.phase = DONE
        if plan.leftover:
            blob = codec.encode_message(Message(header=SyncHdr(), body=SyncBody(
                commands=tuple(plan.leftover))), codec.XML)
            st.queue = base64.b64encode(blob).decode("ascii")
        st.our_package_open = continuing and not final
        reply, body = packer.reply(plan, final)
        ended = (msg.final and final and status_only(plan.commands)
                 and all(ds.phase == DONE for ds in st.datastores.values()))
        if ended:
            self._finish(ctx)
        return reply, body, ended

    def _renderer(self, ctx: MessageContext, ds):
        return lambda op: outgoing.render(ctx.tx, ds, op, username=ctx.username)

    def _finish(self, ctx: MessageContext) -> None:
        """The session completed: remember anchors and revision per datastore."""
        st = ctx.state
        st.complete = True
        for ds in st.datastores.values():
            if ds.mode == 202 or ds.failed_out:
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
            ctx.note("sync complete", datastore=ds.name, mode=ds.mode, sent=ds.sent,
                     received=len(ds.received), failed=ds.failed_out)

    # -- failure -------------------------------------------------------------------------
    def failure_reply(self, state: SessionState, msg: Message, code: int, *, encoding: str,
                      base_url: str) -> tuple[Message, bytes]:
        """Every command of ``msg`` failed with ``code``; nothing of it was applied."""
        state.out_msg_id += 1
        header = self.header(state, base_url)
        packer = Packer(encoder(encoding), header, self.limit(state), encoding=encoding)
        ctx = MessageContext(tx=None, settings=self.settings, state=state, now=0.0,
                             msg_id=msg.header.msg_id, encoding=encoding)
        first = [self.hdr_status(msg, 200 if state.authenticated else code)]
        _fail_statuses(ctx, msg.commands, code)
        plan = packer.plan(first, ctx.statuses, [], allow_syncs=False)
        return packer.reply(plan, msg.final)


def _fail_statuses(ctx: MessageContext, commands, code: int) -> None:
    for cmd in commands:
        if isinstance(cmd, Status):
            continue
        ctx.status(cmd, command_name(cmd), code)
        if isinstance(cmd, (Sync, Atomic, Sequence)):
            _fail_statuses(ctx, cmd.commands, code)


def _resp_uri(base_url: str, key: str) -> str | None:
    if base_url.startswith(("http://", "https://")):
        return f"{base_url}?s={key}"
    return None
