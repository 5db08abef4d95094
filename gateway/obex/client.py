"""The OBEX client session (I/O-free): Connect with a Target, PUT, GET, Abort, Disconnect.

``send(ConnectRequest(target=b"SYNCML-SYNC"), now)``, then ``send`` of ``PutRequest``,
``GetRequest``, ``Disconnect`` or ``Abort`` (each with ``now``). Objects are split to
fit the negotiated packet size (min of ours and the server's, omads-protocol.md §5.2); the
client sends the next packet when the server answers Continue (0x90). Each operation ends in
one event: ``Connected`` or a ``Response`` (with ``code``; a GET's ``body`` is the collected
object). A Disconnect ends in ``ConnectionClosed``.

All state logic is the table ``TRANSITIONS``: ``(state, input) -> (handler, next state)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from .connection import ObexConnection
from .constants import (FINAL_BIT, MAX_PACKET_LENGTH, MIN_PACKET_LENGTH, HeaderId, Opcode,
                        ResponseCode)
from .errors import LocalProtocolError, ObexDecodeError
from .events import (Abort, ConnectRequest, Connected, Disconnect, Event, GetRequest,
                     PutRequest, Response)
from .headers import Header, find, type_bytes
from .objects import ObjectAssembler, split_object
from .packets import Packet, decode_response

__all__ = ["ClientConfig", "ClientState", "ObexClient", "TRANSITIONS"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientConfig:
    """``idle_timeout`` bounds the wait for each response; ``max_object_size`` a GET body."""

    max_packet_length: int = 0x7FFF
    idle_timeout: float | None = None
    max_object_size: int | None = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not MIN_PACKET_LENGTH <= self.max_packet_length <= MAX_PACKET_LENGTH:
            raise LocalProtocolError("max_packet_length must be within 255..65535")


class ClientState(Enum):
    IDLE = auto()           # transport open, not connected
    CONNECTING = auto()     # Connect sent
    CONNECTED = auto()      # between operations
    PUT = auto()            # a PUT packet is outstanding
    GET = auto()            # a GET packet is outstanding
    ABORTING = auto()       # Abort sent
    DISCONNECTING = auto()  # Disconnect sent
    CLOSED = auto()


class Input(Enum):
    CONNECT = auto()     # caller events
    PUT = auto()
    GET = auto()
    DISCONNECT = auto()
    ABORT = auto()
    CONTINUE = auto()    # peer responses
    SUCCESS = auto()
    ERROR = auto()


C, I = ClientState, Input

_CALLER_INPUT = {ConnectRequest: I.CONNECT, PutRequest: I.PUT, GetRequest: I.GET,
                 Disconnect: I.DISCONNECT, Abort: I.ABORT}

TRANSITIONS: dict[tuple[ClientState, Input], tuple[str, ClientState]] = {
    (C.IDLE, I.CONNECT): ("_connect", C.CONNECTING),
    (C.IDLE, I.DISCONNECT): ("_disconnect", C.DISCONNECTING),
    (C.CONNECTING, I.SUCCESS): ("_connected", C.CONNECTED),
    (C.CONNECTING, I.CONTINUE): ("_connect_failed", C.IDLE),
    (C.CONNECTING, I.ERROR): ("_connect_failed", C.IDLE),
    (C.CONNECTED, I.PUT): ("_put", C.PUT),
    (C.CONNECTED, I.GET): ("_get", C.GET),
    (C.CONNECTED, I.DISCONNECT): ("_disconnect", C.DISCONNECTING),
    (C.PUT, I.CONTINUE): ("_put_next", C.PUT),
    (C.PUT, I.SUCCESS): ("_finish", C.CONNECTED),
    (C.PUT, I.ERROR): ("_finish", C.CONNECTED),
    (C.PUT, I.ABORT): ("_abort_later", C.PUT),
    (C.GET, I.CONTINUE): ("_get_next", C.GET),
    (C.GET, I.SUCCESS): ("_get_done", C.CONNECTED),
    (C.GET, I.ERROR): ("_finish", C.CONNECTED),
    (C.GET, I.ABORT): ("_abort_later", C.GET),
    (C.ABORTING, I.CONTINUE): ("_aborted", C.CONNECTED),
    (C.ABORTING, I.SUCCESS): ("_aborted", C.CONNECTED),
    (C.ABORTING, I.ERROR): ("_aborted", C.CONNECTED),
    (C.DISCONNECTING, I.CONTINUE): ("_disconnected", C.CLOSED),
    (C.DISCONNECTING, I.SUCCESS): ("_disconnected", C.CLOSED),
    (C.DISCONNECTING, I.ERROR): ("_disconnected", C.CLOSED),
}


class ObexClient(ObexConnection):
    """One OBEX client session on one transport connection."""

    _WAITING_FOR_PEER = frozenset({C.CONNECTING, C.PUT, C.GET, C.ABORTING, C.DISCONNECTING})
    _CLOSED = C.CLOSED

    def __init__(self, config: ClientConfig | None = None, *, now: float) -> None:
        self.config = config or ClientConfig()
        super().__init__(max_packet_length=self.config.max_packet_length,
                         idle_timeout=self.config.idle_timeout, now=now)
        self.state = C.IDLE
        self.connection_id: int | None = None
        self.send_limit = MIN_PACKET_LENGTH
        self._target: bytes | None = None
        self._packets = iter(())
        self._op: Opcode | None = None
        self._asm = ObjectAssembler()
        self._abort_pending = False

    # -- dispatch -------------------------------------------------------------------------
    def _dispatch(self, kind: Input, arg) -> None:
        try:
            handler, next_state = TRANSITIONS[(self.state, kind)]
        except KeyError:
            raise LocalProtocolError(f"{kind.name} not allowed in state {self.state.name}") from None
        override = getattr(self, handler)(arg)
        if self.state is not C.CLOSED:
            self.state = override or next_state

    def _send(self, event: Event) -> None:
        kind = _CALLER_INPUT.get(type(event))
        if kind is None:
            raise LocalProtocolError(f"the client cannot send {type(event).__name__}")
        self._dispatch(kind, event)

    def _handle_frame(self, frame: bytes) -> None:
        if self.state not in self._WAITING_FOR_PEER:
            self._fatal(ObexDecodeError("response without a request", offset=self._framer.offset))
            return
        try:
            packet = decode_response(frame, connect=self.state is C.CONNECTING)
        except ObexDecodeError as exc:
            self._fatal(exc)
            return
        if packet.code == ResponseCode.CONTINUE:
            kind = I.CONTINUE
        elif 0xA0 <= packet.code < 0xB0:
            kind = I.SUCCESS
        else:
            kind = I.ERROR
        if self._abort_pending and kind is I.CONTINUE and self.state in (C.PUT, C.GET):
            self._send_abort()
            return
        self._abort_pending = False
        try:
            self._dispatch(kind, packet)
        except ObexDecodeError as exc:
            self._fatal(exc)

    def _request(self, opcode: int, headers: tuple[Header, ...], final: bool = True) -> None:
        self._write(Packet(code=opcode | (FINAL_BIT if final else 0), headers=headers))

    def _first_headers(self, extra: tuple[Header, ...]) -> tuple[Header, ...]:
        cid = () if self.connection_id is None else (
            Header(hi=HeaderId.CONNECTION_ID, value=self.connection_id),)
        return cid + extra

    # -- handlers: session ----------------------------------------------------------------
    def _connect(self, event: ConnectRequest) -> None:
        self._target = event.target
        headers = event.headers
        if event.target is not None:
            headers = (Header(hi=HeaderId.TARGET, value=event.target),) + headers
        self._write(Packet.connect(Opcode.CONNECT | FINAL_BIT, self.config.max_packet_length,
                                   headers))

    def _connected(self, packet: Packet) -> None:
        if packet.max_packet_length < MIN_PACKET_LENGTH:
            raise ObexDecodeError(f"server max packet length {packet.max_packet_length} < 255",
                                  offset=5)
        self.connection_id = find(packet.headers, HeaderId.CONNECTION_ID)
        self.send_limit = min(self.config.max_packet_length, packet.max_packet_length)
        self._events.append(Connected(
            connection_id=self.connection_id, target=self._target,
            who=find(packet.headers, HeaderId.WHO), max_packet_length=self.send_limit,
            headers=packet.headers))

    def _connect_failed(self, packet: Packet) -> None:
        self._events.append(Response(op=Opcode.CONNECT, code=_final(packet.code),
                                     headers=packet.headers))

    def _disconnect(self, event: Disconnect) -> None:
        self._op = Opcode.DISCONNECT
        self._request(Opcode.DISCONNECT, self._first_headers(event.headers))

    def _disconnected(self, packet: Packet) -> None:
        self._close("disconnected", code=packet.code)

    # -- handlers: operations -------------------------------------------------------------
    def _put(self, event: PutRequest) -> None:
        first = []
        if event.name is not None:
            first.append(Header(hi=HeaderId.NAME, value=event.name))
        if event.type is not None:
            first.append(Header(hi=HeaderId.TYPE, value=type_bytes(event.type)))
        if not event.delete:
            first.append(Header(hi=HeaderId.LENGTH, value=len(event.body)))
        first = self._first_headers(tuple(first) + event.headers)
        self._op = Opcode.PUT
        self._packets = split_object(first, None if event.delete else event.body,
                                     self.send_limit)
        self._put_next(None)

    def _put_next(self, packet: Packet | None) -> None:
        try:
            headers, last = next(self._packets)
        except StopIteration:
            raise ObexDecodeError("Continue after the last PUT packet") from None
        self._request(Opcode.PUT, headers, final=last)

    def _get(self, event: GetRequest) -> None:
        first = []
        if event.name is not None:
            first.append(Header(hi=HeaderId.NAME, value=event.name))
        if event.type is not None:
            first.append(Header(hi=HeaderId.TYPE, value=type_bytes(event.type)))
        self._op = Opcode.GET
        self._asm = ObjectAssembler(self.config.max_object_size)
        headers, _ = next(split_object(self._first_headers(tuple(first) + event.headers),
                                       None, self.send_limit))
        self._request(Opcode.GET, headers)

    def _get_next(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        self._request(Opcode.GET, ())

    def _get_done(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        asm, self._asm = self._asm, ObjectAssembler()
        self._events.append(Response(op=Opcode.GET, code=packet.code,
                                     headers=tuple(asm.headers), body=asm.body))

    def _finish(self, packet: Packet) -> None:
        self._packets, self._asm = iter(()), ObjectAssembler()
        self._events.append(Response(op=self._op, code=_final(packet.code),
                                     headers=packet.headers))

    # -- abort ----------------------------------------------------------------------------
    def _abort_later(self, event: Abort) -> None:
        """Abort is sent when the outstanding packet's response arrives."""
        self._abort_pending = True

    def _send_abort(self) -> None:
        self._abort_pending = False
        self._packets, self._asm = iter(()), ObjectAssembler()
        self.state = C.ABORTING
        self._request(Opcode.ABORT, self._first_headers(()))

    def _aborted(self, packet: Packet) -> None:
        self._events.append(Response(op=Opcode.ABORT, code=_final(packet.code),
                                     headers=packet.headers))


def _final(code: int) -> int:
    """A response code usable in a final ``Response`` (Continue where a final one was due
    is reported as Bad Request)."""
    return ResponseCode.BAD_REQUEST if code == ResponseCode.CONTINUE or code < 0x90 else code
