"""SyncML over OBEX, server side: "PUT a SyncML message, GET the reply" (omads-protocol.md §5.1).

``SyncMLObexServer`` wraps an :class:`ObexServer`. A PUT of a SyncML type is answered with
Success and becomes a ``SyncMLRequest`` event; the engine's answer goes in through
``send(SyncMLReply(body=..., content_type=...), now)`` and is returned on the next GET
(``send(Response(code=...), now)`` answers a waiting GET with an error instead). A GET that
arrives before the reply is held (the OBEX server waits, parsing nothing more) until the
reply is sent. A GET with no SyncML message outstanding gets Internal Server Error (0xD0) and a PUT of another
type Unsupported Media Type (0xCF), as the Buteo server does (§5.1 "GET response").
Other OBEX events (Connected, Disconnect, Abort, RequestRejected, ConnectionClosed) pass
through unchanged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from .constants import SYNCML_TYPES, Opcode, ResponseCode
from .errors import LocalProtocolError
from .events import (Abort, Event, GetRequest, GetResponse, PutRequest, RequestRejected,
                     Response)
from .server import ObexServer, ServerConfig, ServerState

__all__ = ["SyncMLRequest", "SyncMLReply", "SyncMLObexServer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncMLRequest(Event):
    """One SyncML message (or SAN) PUT by the peer; answer it with ``reply()``."""

    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncMLReply(Event):
    """The engine's answer to the last ``SyncMLRequest``, for the peer's GET."""

    body: bytes
    content_type: str


class SyncMLObexServer:
    """The server-side PUT/GET pairing over one OBEX session (same verbs as the cores)."""

    def __init__(self, config: ServerConfig | None = None, *, now: float) -> None:
        self.obex = ObexServer(config, now=now)
        self._events: deque[Event] = deque()
        self._out = bytearray()
        self._awaiting_reply = False
        self._reply: GetResponse | None = None
        self._held_get: GetRequest | None = None
        self._handlers = {PutRequest: self._on_put, GetRequest: self._on_get,
                          Abort: self._on_abort}

    @property
    def state(self) -> ServerState:
        return self.obex.state

    @property
    def awaiting_reply(self) -> bool:
        return self._awaiting_reply

    def receive_data(self, data: bytes, now: float) -> None:
        self.obex.receive_data(data, now)
        self._pump(now)

    def _pump(self, now: float) -> None:
        for event in self.obex.events():
            handler = self._handlers.get(type(event))
            if handler is None:
                self._events.append(event)
            else:
                handler(event, now)

    def _on_put(self, event: PutRequest, now: float) -> None:
        if event.type not in SYNCML_TYPES:
            self._out += self.obex.send(Response(code=ResponseCode.UNSUPPORTED_MEDIA_TYPE), now)
            self._events.append(RequestRejected(
                op=Opcode.PUT, code=ResponseCode.UNSUPPORTED_MEDIA_TYPE,
                reason=f"PUT of type {event.type!r}"))
            return
        self._out += self.obex.send(Response(code=ResponseCode.SUCCESS), now)
        self._awaiting_reply, self._reply = True, None
        self._events.append(SyncMLRequest(body=event.body, content_type=event.type))

    def _on_get(self, event: GetRequest, now: float) -> None:
        if self._reply is not None:
            reply, self._reply = self._reply, None
            self._out += self.obex.send(reply, now)
        elif self._awaiting_reply:
            self._held_get = event
        else:
            self._out += self.obex.send(Response(code=ResponseCode.INTERNAL_SERVER_ERROR), now)
            self._events.append(RequestRejected(
                op=Opcode.GET, code=ResponseCode.INTERNAL_SERVER_ERROR,
                reason="GET with no SyncML reply pending"))

    def _on_abort(self, event: Abort, now: float) -> None:
        self._events.append(event)

    def send(self, event: Event, now: float) -> bytes:
        """``SyncMLReply``: the answer to the last ``SyncMLRequest``; ``Response``: an error
        answer to the GET that is waiting for it. Returns all bytes queued (as
        ``data_to_send()``). After the session closed, either is dropped (``b""``)."""
        if self.obex.state is ServerState.CLOSED:
            return b""
        if isinstance(event, SyncMLReply):
            self._reply_with(event, now)
        elif isinstance(event, Response):
            if self.obex.state is not ServerState.GET_WAIT:
                raise LocalProtocolError("an error Response needs a GET waiting for it")
            self._awaiting_reply, self._held_get, self._reply = False, None, None
            self._out += self.obex.send(event, now)
        else:
            raise LocalProtocolError(f"the SyncML binding cannot send {type(event).__name__}")
        self._pump(now)
        return self.data_to_send()

    def _reply_with(self, event: SyncMLReply, now: float) -> None:
        if not self._awaiting_reply:
            raise LocalProtocolError("SyncMLReply without a pending SyncMLRequest")
        self._awaiting_reply = False
        self._reply = GetResponse(body=event.body, type=event.content_type)
        if self._held_get is not None:
            self._held_get = None
            self._on_get(GetRequest(), now)

    # -- the common verbs -----------------------------------------------------------------
    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[Event]:
        while self._events:
            yield self._events.popleft()

    def data_to_send(self) -> bytes:
        data = bytes(self._out) + self.obex.data_to_send()
        self._out.clear()
        return data

    def next_deadline(self) -> float | None:
        return self.obex.next_deadline()

    def handle_timeout(self, now: float) -> None:
        self.obex.handle_timeout(now)
        self._pump(now)
