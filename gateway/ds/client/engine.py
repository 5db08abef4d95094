"""The Data Sync client engine (I/O-free): our messages out, the server's in.

    session = ClientSession(settings, state, stores, now=t)
    body = session.start()                  # package 1 (Alerts, Put/Get DevInf)
    while body is not None:
        reply, content_type = transport(session.url, body, session.content_type)
        body = session.receive(reply, content_type, now=t)

Packages per omads-protocol.md §3.8: 1 init, 2 server init, 3 our Sync, 4 the server's
Sync, 5 our Statuses and Map, 6 the server's Statuses. A message without Final continues
its package (§3.7); we answer the server's with Statuses and Alert 222. Messages are
packed within the server's MaxMsgSize by the server's packer; our large objects are split
by it, the server's are reassembled by largeobj.py. Auth per §3.5 (client_auth.py),
suspend/resume per §3.9. ``state`` (anchors, maps, nonces) is updated in place; the
caller saves it after every message.
"""

from __future__ import annotations

from typing import Callable

from gateway.ds.client import outgoing as client_outgoing
from gateway.ds.server.alerts import new_anchor
from gateway.ds.client.auth import challenge, credentials, transport_headers
from gateway.ds.client.devinf import get_devinf, put_devinf
from gateway.ds.client.errors import AuthError, ProtocolError, SyncFailed
from gateway.ds.client.incoming import IncomingMixin
from gateway.ds.client.run import DatastoreRun
from gateway.ds.client.settings import ClientSettings, carries_headers
from gateway.ds.client.state import ClientState, ResumeInfo
from gateway.ds.client.store import LocalStore
from gateway.ds.hmac import MAC
from gateway.ds.packaging import Packer, SyncSource
from gateway.ds.server.session import DatastoreState, OpQueue
from gateway.syncml import codec
from gateway.syncml.errors import DecodeError, RemoteProtocolError
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import (
    Alert, Item, Location, Map, Message, Status, Sync, SyncBody, SyncHdr,
)

NEEDS_ANCHOR = (200, 202, 204)
DEFAULT_SERVER_MSG_SIZE = 64_000


class ClientSession(IncomingMixin):
    def __init__(self, settings: ClientSettings, state: ClientState,
                 stores: dict[str, LocalStore], *, now: float, resume: bool = False,
                 devinf_only: bool = False, log: Callable[..., None] | None = None):
        self.settings, self.state, self.log = settings, state, log
        self.url = settings.url
        self.content_type = settings.encoding
        self.devinf_only = devinf_only
        self.auth_type = state.auth_types.get(settings.url) or settings.auth_type
        self.authenticated = False
        self.auth_retries = 0
        self.out_msg_id = 0
        self.pkg = 1
        self.our_open = False
        self.queue: list = []
        self.inflight: dict[str, list] = {}
        self.map_inflight: dict[str, tuple[str, list[str]]] = {}
        self.server_max_msg = 0
        self.server_max_obj: int | None = None
        self.server_large_objs = False
        self.server_devinf = None
        self.suspend_requested = False
        self.suspended = False
        self.done = False
        self.bytes_sent = self.bytes_received = self.messages = 0
        self.runs: dict[str, DatastoreRun] = {}
        self.resumed: dict[str, frozenset[str]] = {}
        self._map_batches: dict[tuple, tuple[str, list[str]]] = {}
        state.session_counter += 1
        self.session_id = str(state.session_counter)
        if devinf_only:
            return
        for cfg in settings.datastores:
            mem = state.memory(cfg.local_uri)
            if resume and mem.resume is not None:
                asked, last, nxt = 225, mem.resume.last, mem.resume.next
            else:
                asked, last, nxt = cfg.mode, mem.last_anchor, new_anchor(now)
                if nxt == last:
                    nxt += "-1"
                if asked in NEEDS_ANCHOR and not last:
                    asked = 201                       # nothing to compare: slow sync
            self.runs[cfg.local_uri] = DatastoreRun(config=cfg, store=stores[cfg.local_uri],
                                                    memory=mem, asked=asked, last=last,
                                                    next=nxt)

    # -- public ------------------------------------------------------------------------
    def start(self) -> bytes:
        return self._init_message()

    def request_suspend(self) -> None:
        """Ask the server to suspend at the next message we send (Alert 224)."""
        self.suspend_requested = True

    def receive(self, body: bytes, content_type: str | None, *, now: float) -> bytes | None:
        """The server's message; our next message, or None when the session is over."""
        self.bytes_received += len(body)
        try:
            kind = codec.media_type(content_type) if content_type else codec.sniff(body)
        except RemoteProtocolError:
            kind = codec.sniff(body)
        try:
            msg = codec.decode_message(body, kind)
        except (DecodeError, RemoteProtocolError) as exc:
            raise ProtocolError(f"undecodable message from the server: {exc}") from None
        self.messages += 1
        if self.messages > self.settings.max_messages:
            raise ProtocolError("the session does not end (message limit reached)")
        return self._process(msg)

    def transport_headers(self, body: bytes) -> dict[str, str]:
        """Headers to send with ``body`` (our latest message): the auth-MAC signature,
        over these exact bytes with the newest nonce, when we use auth-MAC."""
        return transport_headers(self.auth_type, self.settings.username,
                                 self.settings.password,
                                 self.state.nonces.get(self.settings.url), body)

    @property
    def ok(self) -> bool:
        return self.done and not self.suspended and all(r.failed is None
                                                        for r in self.runs.values())

    # -- messages we send --------------------------------------------------------------
    def _header(self) -> SyncHdr:
        self.out_msg_id += 1
        cred = None
        if not self.authenticated and self.auth_type:
            cred = credentials(self.auth_type, self.settings.username, self.settings.password,
                               self.state.nonces.get(self.settings.url))
        return SyncHdr(ver_dtd=self.settings.ver_dtd,
                       ver_proto=f"SyncML/{self.settings.ver_dtd}",
                       session_id=self.session_id, msg_id=str(self.out_msg_id),
                       target=Location(loc_uri=self.url),
                       source=Location(loc_uri=self.settings.device_id,
                                       loc_name=self.settings.username or None),
                       cred=cred, meta=Meta(max_msg_size=self.settings.max_msg_size,
                                            max_obj_size=self.settings.max_obj_size))

    def _encode(self, msg: Message) -> bytes:
        return codec.encode_message(msg, self.settings.encoding)

    def _send(self, first: list, queue: list, *, syncs: bool, final_when_done: bool = True
              ) -> bytes:
        header = self._header()
        limit = self.server_max_msg or DEFAULT_SERVER_MSG_SIZE
        packer = Packer(self._encode, header, limit, encoding=self.settings.encoding)
        sources = []
        if syncs:
            sources = [SyncSource(ds=run.out, render=client_outgoing.renderer(run),
                                  large_objs=self.server_large_objs or bool(self.server_max_obj),
                                  max_obj_size=self.server_max_obj)
                       for run in self.runs.values() if run.out is not None]
        plan = packer.plan(first, queue, sources, allow_syncs=syncs)
        self.queue = list(plan.leftover)
        for part in plan.parts:
            run = self.runs[part.name]
            run.out.pending.drop(part.consumed)
            run.out.out_chunk = part.out_chunk
        commands = []
        syncs_placed = iter(plan.parts)
        for cmd in plan.commands:
            if isinstance(cmd, Sync):
                part = next(syncs_placed)
                for child, op in zip(cmd.commands, part.placed_ops):
                    self.inflight[f"{header.msg_id}:{child.cmd_id}"] = [part.name, op[0], op[1]]
            if isinstance(cmd, Map):
                pending = self._map_batches.pop(id_key(cmd), None)
                if pending is not None:
                    self.map_inflight[f"{header.msg_id}:{cmd.cmd_id}"] = pending
            commands.append(client_outgoing.client_form(cmd))
        self.our_open = plan.more
        final = final_when_done and not plan.more
        body = self._encode(Message(header=header, body=SyncBody(commands=tuple(commands),
                                                                 final=final)))
        self.bytes_sent += len(body)
        return body

    def _init_message(self) -> bytes:
        self.pkg = 1
        cmds: list = [put_devinf(self.settings)]
        if self.settings.url not in self.state.server_devinf or self.devinf_only:
            cmds.append(get_devinf(self.settings))
        for run in self.runs.values():
            cmds.append(Alert(data=run.asked, items=(Item(
                target=Location(loc_uri=run.remote_uri), source=Location(loc_uri=run.local_uri),
                meta=Meta(anchor=Anchor(last=run.last, next=run.next))),)))
        return self._send([], cmds, syncs=False)

    # -- the server's message ----------------------------------------------------------
    def _process(self, msg: Message) -> bytes | None:
        hdr = msg.header
        if hdr.resp_uri:
            self.url = hdr.resp_uri
        if hdr.meta is not None:
            self.server_max_msg = hdr.meta.max_msg_size or self.server_max_msg
            self.server_max_obj = hdr.meta.max_obj_size or self.server_max_obj
        statuses: list = [Status(msg_ref=hdr.msg_id, cmd_ref="0", cmd="SyncHdr",
                                 target_refs=(hdr.target.loc_uri,) if hdr.target else (),
                                 source_refs=(hdr.source.loc_uri,) if hdr.source else (),
                                 data=200)]
        commands: list = []

        def status(cmd, name, code, *, target=None, source=None, items=()):
            if not getattr(cmd, "no_resp", False):
                statuses.append(Status(msg_ref=hdr.msg_id, cmd_ref=cmd.cmd_id or "", cmd=name,
                                       target_refs=(target,) if target else (),
                                       source_refs=(source,) if source else (),
                                       data=int(code), items=items))

        retry = False
        only_statuses = True
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                if cmd.cmd == "SyncHdr" and cmd.cmd_ref == "0":
                    retry = self._hdr_status(cmd) or retry
                else:
                    self._status(cmd)
                continue
            only_statuses = False
            if retry:
                continue
            self._command(cmd, hdr.msg_id, status, commands)
        if retry:
            self.auth_retries += 1
            if self.auth_retries > self.settings.max_auth_retries:
                raise AuthError("the server refused our credentials")
            self._reset_init()
            return self._init_message()
        return self._next(msg, statuses + commands, only_statuses)

    def _hdr_status(self, st: Status) -> bool:
        """True when the server asks us to authenticate again."""
        kind, nonce = challenge(st.chal)
        if nonce is not None:
            self.state.nonces[self.settings.url] = nonce
        if kind == MAC and not carries_headers(self.settings.url):
            if st.data in (401, 407):
                raise AuthError("the server wants syncml:auth-MAC (HMAC), which needs HTTP")
            kind = None
        if kind:
            self.state.auth_types[self.settings.url] = kind
        if st.data in (401, 407):
            if kind:
                self.auth_type = kind
            if not self.auth_type and not kind:
                raise AuthError(f"the server wants credentials ({st.data}) and we have none")
            return True
        if st.data == 212:
            self.authenticated = True
        elif st.data == 200:
            self.authenticated = st.chal is None   # 200 + Chal: credentials in every message
        else:
            raise SyncFailed(f"the server refused the session (status {st.data})")
        return False

    def _reset_init(self) -> None:
        for run in self.runs.values():       # the refused Alerts go again
            run.failed = run.alert_status = None
        self.inflight.clear()
        self.map_inflight.clear()
        self.queue = []

    # -- what comes next -----------------------------------------------------------------
    def _next(self, msg: Message, reply: list, only_statuses: bool) -> bytes | None:
        first, queue = reply[:1], self.queue + reply[1:]
        if self.suspend_requested and not self.suspended and self.pkg >= 3:
            return self._suspend(first, queue)
        if self.our_open:
            return self._send(first, queue, syncs=self.pkg == 3)
        if not msg.final:
            if all(isinstance(c, Status) for c in queue):
                queue.append(Alert(data=222, items=(Item(target=Location(loc_uri=self.url),
                                                         source=Location(
                                                             loc_uri=self.settings.device_id)),)))
            return self._send(first, queue, syncs=False, final_when_done=False)
        if self.suspended:
            self.done = True
            return None
        if self.pkg == 1:
            return self._package3(first, queue)
        if only_statuses and not self.queue:      # nothing asked of us: the session is over
            self._finish()
            return None
        if self.pkg == 3:
            self.pkg = 5
            return self._send(first, queue + self._map_commands(), syncs=False)
        return self._send(first, queue, syncs=False)

    def _package3(self, first: list, queue: list) -> bytes | None:
        self.pkg = 3
        if self.devinf_only:
            self.pkg = 5
            if all(isinstance(c, Status) for c in queue):
                self.done = True
                return None
            return self._send(first, queue, syncs=False)
        live = False
        for run in self.runs.values():
            if run.failed is not None:
                continue
            if run.mode is None:
                run.failed = "the server sent no Alert for this datastore"
                continue
            live = True
            self._prepare(run)
        if not live:
            self.done = True
            raise SyncFailed("; ".join(f"{r.local_uri}: {r.failed}" for r in self.runs.values()))
        return self._send(first, queue + self._map_commands(), syncs=True)

    def _prepare(self, run: DatastoreRun) -> None:
        mem = run.memory
        if run.mode in (201, 203, 205):
            mem.map.clear()
            mem.pending_map.clear()
        if run.mode == 205:
            for luid in list(run.store.luids()):
                if run.store.delete(luid):
                    run.counters.local_deleted += 1
        ops = client_outgoing.collect(run, resumed_sent=self.resumed.get(run.local_uri,
                                                                         frozenset()))
        run.out = DatastoreState(name=run.local_uri, client_uri=run.remote_uri,
                                 server_uri=run.local_uri, mode=run.mode,
                                 pending=OpQueue(ops), total_out=len(ops))
        mem.resume = ResumeInfo(mode=run.mode, last=run.last, next=run.next)

    def _map_commands(self) -> list:
        out = []
        for run in self.runs.values():
            if run.failed is None and run.mode is not None:
                for cmd, luids in client_outgoing.maps(run):
                    self._map_batches[id_key(cmd)] = (run.local_uri, luids)
                    out.append(cmd)
        return out

    def _suspend(self, first: list, queue: list) -> bytes:
        self.suspended = True
        for run in self.runs.values():
            if run.memory.resume is not None:
                run.memory.resume.sent = sorted(set(run.memory.resume.sent) | set(run.acked))
        queue = [c for c in queue if isinstance(c, Status)]
        queue.append(Alert(data=224, items=tuple(
            Item(target=Location(loc_uri=r.remote_uri), source=Location(loc_uri=r.local_uri))
            for r in self.runs.values())))
        self.our_open = False
        return self._send(first, queue, syncs=False)

    def _finish(self) -> None:
        self.done = True
        for run in self.runs.values():
            if run.failed is not None or run.mode is None:
                continue
            mem = run.memory
            mem.last_anchor, mem.server_anchor, mem.resume = run.next, run.server_next, None


def id_key(cmd: Map) -> tuple:
    """A Map's identity before numbering (its datastore and first LUID)."""
    first = cmd.map_items[0].source.loc_uri if cmd.map_items else ""
    return (cmd.source.loc_uri if cmd.source else "", first)
