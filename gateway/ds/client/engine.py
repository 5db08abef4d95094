"""The Data Sync client engine (I/O-free): our messages out, the server's in.

    session = ClientSession(settings, state, stores, now=t)   # package 1 is ready
    while (body := session.data_to_send()) is not None:
        reply, content_type = transport(session.url, body, session.content_type,
                                        session.transport_headers(body))
        session.receive_data(reply, now, content_type=content_type)
        while (event := session.next_event()) is not None:
            ...                         # ModeSettled, Exchanged, SessionEnded (events.py)

The verbs of every sans-I/O core here (DESIGN.md): ``data_to_send()`` hands out our next
message once (``b""`` while its reply is due, None when the session is over);
``receive_data(body, now, content_type=...)`` takes the server's reply; ``next_event()``
says what happened, a failure included (``SessionEnded.error``: AuthError,
ProtocolError, SyncFailed); ``send(Suspend(), now)`` asks for a suspend;
``next_deadline()`` is None (nothing is timed here: the transport bounds each exchange)
and ``handle_timeout(now)`` does nothing.

Packages per omads-protocol.md §3.8: 1 init, 2 server init, 3 our Sync, 4 the server's
Sync, 5 our Statuses and Map, 6 the server's Statuses. A message without Final continues
its package (§3.7); we answer the server's with Statuses and Alert 222. Messages are
packed within the server's MaxMsgSize by the shared packer; our large objects are split
by it, the server's are reassembled by largeobj.py. The server's message is read by
incoming.py, auth per §3.5 by auth.ClientAuth, suspend/resume per §3.9. ``state``
(anchors, maps, nonces) is updated in place; the caller saves it after every message.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from gateway.ds.anchors import new_anchor
from gateway.ds.client import outgoing as client_outgoing
from gateway.ds.client.auth import ClientAuth
from gateway.ds.client.devinf import put_devinf
from gateway.ds.client.errors import ClientError, ProtocolError, SyncFailed
from gateway.ds.client.events import Event, Exchanged, ModeSettled, SessionEnded, Suspend
from gateway.ds.client.incoming import Inbound, Reply, ServerInfo, apply_command, apply_status
from gateway.ds.client.run import DatastoreRun
from gateway.ds.client.settings import ClientSettings
from gateway.ds.client.state import ClientState, ResumeInfo
from gateway.ds.client.store import LocalStore
from gateway.ds.commands import next_message_alert
from gateway.ds.devinf_exchange import get_devinf
from gateway.ds.modes import MODES
from gateway.ds.ops import Op, OpQueue
from gateway.ds.packaging import Packer, SyncSource
from gateway.syncml import codec
from gateway.syncml.codes import AlertCode
from gateway.errors import LocalProtocolError, RemoteProtocolError
from gateway.syncml.errors import DecodeError
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import (
    Alert, Item, Location, Map, Message, Status, Sync, SyncBody, SyncHdr,
)

DEFAULT_SERVER_MSG_SIZE = 64_000


class ClientSession:
    def __init__(self, settings: ClientSettings, state: ClientState,
                 stores: dict[str, LocalStore], *, now: float, resume: bool = False,
                 devinf_only: bool = False, log: Callable[..., None] | None = None):
        self.settings, self.state, self.log = settings, state, log
        self.url = settings.url
        self.content_type = settings.encoding
        self.devinf_only = devinf_only
        self.auth = ClientAuth(settings, state)
        self.server = ServerInfo()
        self.out_msg_id = 0
        self.pkg = 1
        self.our_open = False                 # our package continues in the next message
        self.queue: list = []                 # commands that did not fit our last message
        self.inflight: dict[str, tuple[str, Op]] = {}   # "msg:cmd" -> (datastore, op)
        self.map_inflight: dict[str, tuple[str, list[str]]] = {}
        self.suspend_requested = False
        self.suspended = False
        self.done = False
        self.bytes_sent = self.bytes_received = self.messages = 0
        self.runs: dict[str, DatastoreRun] = {}
        self.resumed: dict[str, frozenset[str]] = {}
        self._map_batches: dict[tuple, tuple[str, list[str]]] = {}
        self._events: deque[Event] = deque()
        self._awaiting = False                # a message went out; its reply is due
        state.session_counter += 1
        self.session_id = str(state.session_counter)
        if not devinf_only:
            for cfg in settings.datastores:
                self.runs[cfg.local_uri] = self._new_run(cfg, stores[cfg.local_uri], now,
                                                         resume)
        self._outgoing: bytes | None = self._init_message()

    def _new_run(self, cfg, store: LocalStore, now: float, resume: bool) -> DatastoreRun:
        mem = self.state.memory(cfg.local_uri)
        if resume and mem.resume is not None:
            asked, last, nxt = int(AlertCode.RESUME), mem.resume.last, mem.resume.next
        else:
            asked, last, nxt = cfg.mode, mem.last_anchor, new_anchor(now)
            if nxt == last:
                nxt += "-1"
            if MODES[asked].needs_anchors and not last:
                asked = int(AlertCode.SLOW_SYNC)       # nothing to compare: slow sync
        return DatastoreRun(config=cfg, store=store, memory=mem, asked=asked, last=last,
                            next=nxt)

    # -- the verbs ---------------------------------------------------------------------
    def data_to_send(self) -> bytes | None:
        """Our next message, once; ``b""`` while its reply is due; None when over."""
        if self._outgoing is not None:
            body, self._outgoing = self._outgoing, None
            self._awaiting = True
            return body
        return b"" if self._awaiting else None

    def receive_data(self, body: bytes, now: float, *,
                     content_type: str | None = None) -> None:
        """The server's reply to the message ``data_to_send`` gave out."""
        if not self._awaiting:
            raise LocalProtocolError("no message of ours awaits a reply"
                                     if self._outgoing is not None else "the session is over")
        self._awaiting = False
        self.bytes_received += len(body)
        try:
            self._outgoing = self._take(body, content_type)
        except ClientError as exc:
            self._events.append(SessionEnded(ok=False, suspended=self.suspended, error=exc))
            return
        self._events.append(Exchanged(
            messages_sent=self.out_msg_id, messages_received=self.messages,
            bytes_sent=self.bytes_sent, bytes_received=self.bytes_received,
            items_sent=sum(r.counters.sent for r in self.runs.values()),
            items_received=sum(r.counters.received for r in self.runs.values())))
        if self._outgoing is None:
            self._events.append(SessionEnded(ok=self.ok, suspended=self.suspended))

    def next_event(self) -> Event | None:
        """The next event, or None until the next ``receive_data``."""
        return self._events.popleft() if self._events else None

    def send(self, event: Event, now: float) -> None:
        """A command: ``Suspend`` (a no-op once the session is over)."""
        if not isinstance(event, Suspend):
            raise LocalProtocolError(f"the client engine takes no {type(event).__name__}")
        self.suspend_requested = True

    def next_deadline(self) -> float | None:
        return None

    def handle_timeout(self, now: float) -> None:
        """Nothing here is timed (``next_deadline`` is None)."""

    def transport_headers(self, body: bytes) -> dict[str, str]:
        """Headers to send with ``body`` (our latest message): the auth-MAC signature,
        over these exact bytes with the newest nonce, when we use auth-MAC."""
        return self.auth.headers(body)

    @property
    def server_devinf(self):
        """The server's DevInf, once it sent it in this session."""
        return self.server.devinf

    @property
    def ok(self) -> bool:
        return self.done and not self.suspended and all(r.failed is None
                                                        for r in self.runs.values())

    # -- messages we send --------------------------------------------------------------
    def _header(self) -> SyncHdr:
        self.out_msg_id += 1
        return SyncHdr(ver_dtd=self.settings.ver_dtd,
                       ver_proto=f"SyncML/{self.settings.ver_dtd}",
                       session_id=self.session_id, msg_id=str(self.out_msg_id),
                       target=Location(loc_uri=self.url),
                       source=Location(loc_uri=self.settings.device_id,
                                       loc_name=self.settings.username or None),
                       cred=self.auth.cred(),
                       meta=Meta(max_msg_size=self.settings.max_msg_size,
                                 max_obj_size=self.settings.max_obj_size))

    def _encode(self, msg: Message) -> bytes:
        return codec.encode_message(msg, self.settings.encoding)

    def _message(self, first: list, queue: list, *, syncs: bool,
                 final_when_done: bool = True) -> bytes:
        header = self._header()
        server = self.server
        limit = server.max_msg_size or DEFAULT_SERVER_MSG_SIZE
        packer = Packer(self._encode, header, limit, encoding=self.settings.encoding)
        sources = []
        if syncs:
            sources = [SyncSource(name=run.local_uri, target=run.remote_uri,
                                  source=run.local_uri, pending=run.out,
                                  out_chunk=run.out_chunk, total=run.total_out,
                                  render=client_outgoing.renderer(run),
                                  large_objs=server.large_objs or bool(server.max_obj_size),
                                  max_obj_size=server.max_obj_size)
                       for run in self.runs.values() if run.out is not None]
        plan = packer.plan(first, queue, sources, allow_syncs=syncs)
        self.queue = list(plan.leftover)
        for part in plan.parts:
            run = self.runs[part.name]
            run.out.drop(part.consumed)
            run.out_chunk = part.out_chunk
        commands = []
        syncs_placed = iter(plan.parts)
        for cmd in plan.commands:
            if isinstance(cmd, Sync):
                part = next(syncs_placed)
                for child, op in zip(cmd.commands, part.placed_ops):
                    self.inflight[f"{header.msg_id}:{child.cmd_id}"] = (part.name, op)
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
            cmds.append(get_devinf(self.settings.ver_dtd, self.settings.encoding))
        for run in self.runs.values():
            cmds.append(Alert(data=run.asked, items=(Item(
                target=Location(loc_uri=run.remote_uri), source=Location(loc_uri=run.local_uri),
                meta=Meta(anchor=Anchor(last=run.last, next=run.next))),)))
        return self._message([], cmds, syncs=False)

    # -- the server's message ----------------------------------------------------------
    def _take(self, body: bytes, content_type: str | None) -> bytes | None:
        """Our next message for the server's ``body``, or None when the session is over."""
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

    def _process(self, msg: Message) -> bytes | None:
        hdr = msg.header
        if hdr.resp_uri:
            self.url = hdr.resp_uri
        if hdr.meta is not None:
            self.server.max_msg_size = hdr.meta.max_msg_size or self.server.max_msg_size
            self.server.max_obj_size = hdr.meta.max_obj_size or self.server.max_obj_size
        inb = Inbound(settings=self.settings, state=self.state, runs=self.runs,
                      server=self.server, reply=Reply(hdr), resumed=self.resumed)
        retry = False
        only_statuses = True
        for cmd in msg.commands:
            if isinstance(cmd, Status):
                if cmd.cmd == "SyncHdr" and cmd.cmd_ref == "0":
                    retry = self.auth.header_status(cmd) or retry
                else:
                    apply_status(cmd, self.runs, self.inflight, self.map_inflight)
                continue
            only_statuses = False
            if not retry:
                apply_command(inb, cmd)
        self._events.extend(ModeSettled(datastore=name, mode=mode)
                            for name, mode in inb.settled)
        if retry:
            self._reset_init()
            return self._init_message()
        return self._next(msg, inb.reply.statuses + inb.reply.commands, only_statuses)

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
            return self._message(first, queue, syncs=self.pkg == 3)
        if not msg.final:
            if all(isinstance(c, Status) for c in queue):
                queue.append(next_message_alert(self.url, self.settings.device_id))
            return self._message(first, queue, syncs=False, final_when_done=False)
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
            return self._message(first, queue + self._map_commands(), syncs=False)
        return self._message(first, queue, syncs=False)

    def _package3(self, first: list, queue: list) -> bytes | None:
        self.pkg = 3
        if self.devinf_only:
            self.pkg = 5
            if all(isinstance(c, Status) for c in queue):
                self.done = True
                return None
            return self._message(first, queue, syncs=False)
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
        return self._message(first, queue + self._map_commands(), syncs=True)

    def _prepare(self, run: DatastoreRun) -> None:
        mem = run.memory
        if MODES[run.mode].new_map:
            mem.map.clear()
            mem.pending_map.clear()
        if run.mode == AlertCode.REFRESH_FROM_SERVER:
            for luid in list(run.store.luids()):
                if run.store.delete(luid):
                    run.counters.local_deleted += 1
        ops = client_outgoing.collect(run, resumed_sent=self.resumed.get(run.local_uri,
                                                                         frozenset()))
        run.out, run.out_chunk, run.total_out = OpQueue(ops), None, len(ops)
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
        queue.append(Alert(data=int(AlertCode.SUSPEND), items=tuple(
            Item(target=Location(loc_uri=r.remote_uri), source=Location(loc_uri=r.local_uri))
            for r in self.runs.values())))
        self.our_open = False
        return self._message(first, queue, syncs=False)

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
