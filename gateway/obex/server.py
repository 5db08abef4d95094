"""The OBEX server session (I/O-free): Connect with a Target, PUT and GET, Abort, Disconnect.

Behaviour follows omads-protocol.md §5.1/§5.2: a Connect with a known Target (``SYNCML-SYNC``)
gets Success with Connection-ID and Who = Target, an unknown Target Not Found (0xC4);
PUT/GET before Connect get Service Unavailable (0xD3) and a Connection-ID that is not ours
gets Not Found (0xC4), as the Buteo server answers (§5.1 "GET response"). Non-final PUT/GET
packets get Continue (0x90). A final PUT becomes one ``PutRequest`` event (the caller answers
with ``Response``); a final GET becomes a ``GetRequest`` (the caller answers with
``GetResponse``, which is split over Continue responses ending in Success + End-of-Body, or
with an error ``Response``).

All state logic is the table ``TRANSITIONS``: ``(state, input) -> (handler, next state)``;
a handler may return another state (e.g. the last GET packet goes back to CONNECTED).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from .connection import ObexConnection
from .constants import (MAX_PACKET_LENGTH, MIN_PACKET_LENGTH, TARGET_SYNCML_SYNC, HeaderId,
                        Opcode, ResponseCode)
from .errors import LocalProtocolError, ObexDecodeError
from .events import (Abort, Connected, Disconnect, Event, GetRequest, GetResponse, PutRequest,
                     RequestRejected, Response)
from .headers import Header, find, type_bytes, type_text
from .objects import ObjectAssembler, split_object
from .packets import Packet, decode_request

__all__ = ["ServerConfig", "ServerState", "ObexServer", "TRANSITIONS"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Server limits and policy. ``targets``: accepted Connect Targets; ``allow_no_target``
    accepts a Connect without Target (no Connection-ID is then given out)."""

    max_packet_length: int = 0x7FFF
    targets: frozenset[bytes] = frozenset({TARGET_SYNCML_SYNC})
    allow_no_target: bool = False
    connection_id: int = 1
    require_connection_id: bool = False
    idle_timeout: float | None = None
    max_object_size: int | None = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if not MIN_PACKET_LENGTH <= self.max_packet_length <= MAX_PACKET_LENGTH:
            raise LocalProtocolError("max_packet_length must be within 255..65535")
        if not 0 <= self.connection_id <= 0xFFFFFFFF:
            raise LocalProtocolError("connection_id must fit in 4 bytes")


class ServerState(Enum):
    IDLE = auto()        # transport open, no Connect yet
    CONNECTED = auto()   # between operations
    PUT = auto()         # receiving a multi-packet PUT
    PUT_WAIT = auto()    # PutRequest emitted, waiting for the caller's Response
    GET = auto()         # receiving a multi-packet GET request
    GET_WAIT = auto()    # GetRequest emitted, waiting for the caller's GetResponse
    GET_SEND = auto()    # sending the GET body, one packet per GET from the peer
    CLOSED = auto()


class Input(Enum):
    CONNECT = auto()
    DISCONNECT = auto()
    PUT = auto()
    PUT_FINAL = auto()
    GET = auto()
    GET_FINAL = auto()
    ABORT = auto()
    UNSUPPORTED = auto()  # SetPath, Action, Session: defined, not served here
    UNKNOWN = auto()      # an opcode OBEX does not define
    MALFORMED = auto()    # a well-framed packet whose contents do not decode
    REPLY = auto()        # caller: Response
    GET_REPLY = auto()    # caller: GetResponse


S, I = ServerState, Input

_REQUEST_INPUT = {
    Opcode.CONNECT: (I.CONNECT, I.CONNECT), Opcode.DISCONNECT: (I.DISCONNECT, I.DISCONNECT),
    Opcode.PUT: (I.PUT, I.PUT_FINAL), Opcode.GET: (I.GET, I.GET_FINAL),
    Opcode.ABORT: (I.ABORT, I.ABORT), Opcode.SETPATH: (I.UNSUPPORTED, I.UNSUPPORTED),
    Opcode.ACTION: (I.UNSUPPORTED, I.UNSUPPORTED), Opcode.SESSION: (I.UNSUPPORTED, I.UNSUPPORTED),
}
_CALLER_INPUT = {Response: I.REPLY, GetResponse: I.GET_REPLY}

_BEFORE_CONNECT = {
    I.CONNECT: ("_connect", S.CONNECTED), I.DISCONNECT: ("_disconnect", S.CLOSED),
    I.ABORT: ("_abort", S.IDLE), I.UNSUPPORTED: ("_not_implemented", S.IDLE),
    I.UNKNOWN: ("_bad_opcode", S.IDLE), I.MALFORMED: ("_malformed", S.IDLE),
    I.PUT: ("_unavailable", S.IDLE), I.PUT_FINAL: ("_unavailable", S.IDLE),
    I.GET: ("_unavailable", S.IDLE), I.GET_FINAL: ("_unavailable", S.IDLE),
}
# A request that starts an operation abandons the one in progress (lenient, like OpenOBEX).
_CONNECTED = {
    I.CONNECT: ("_connect", S.CONNECTED), I.DISCONNECT: ("_disconnect", S.CLOSED),
    I.ABORT: ("_abort", S.CONNECTED), I.UNSUPPORTED: ("_not_implemented", S.CONNECTED),
    I.UNKNOWN: ("_bad_opcode", S.CONNECTED), I.MALFORMED: ("_malformed", S.CONNECTED),
    I.PUT: ("_put_start", S.PUT), I.PUT_FINAL: ("_put_single", S.PUT_WAIT),
    I.GET: ("_get_start", S.GET), I.GET_FINAL: ("_get_single", S.GET_WAIT),
}
TRANSITIONS: dict[tuple[ServerState, Input], tuple[str, ServerState]] = {
    **{(S.IDLE, i): t for i, t in _BEFORE_CONNECT.items()},
    **{(s, i): t for s in (S.CONNECTED, S.PUT, S.GET, S.GET_SEND) for i, t in _CONNECTED.items()},
    (S.PUT, I.PUT): ("_put_more", S.PUT),
    (S.PUT, I.PUT_FINAL): ("_put_last", S.PUT_WAIT),
    (S.GET, I.GET): ("_get_more", S.GET),
    (S.GET, I.GET_FINAL): ("_get_last", S.GET_WAIT),
    (S.GET_SEND, I.GET): ("_get_next", S.GET_SEND),
    (S.GET_SEND, I.GET_FINAL): ("_get_next", S.GET_SEND),
    (S.PUT_WAIT, I.REPLY): ("_reply_put", S.CONNECTED),
    (S.GET_WAIT, I.GET_REPLY): ("_reply_get", S.GET_SEND),
    (S.GET_WAIT, I.REPLY): ("_reply_get_error", S.CONNECTED),
}


class ObexServer(ObexConnection):
    """One OBEX server session on one transport connection."""

    _WAITING_FOR_PEER = frozenset({S.IDLE, S.CONNECTED, S.PUT, S.GET, S.GET_SEND})
    _PAUSED = frozenset({S.PUT_WAIT, S.GET_WAIT})
    _CLOSED = S.CLOSED

    def __init__(self, config: ServerConfig | None = None, *, now: float) -> None:
        self.config = config or ServerConfig()
        super().__init__(max_packet_length=self.config.max_packet_length,
                         idle_timeout=self.config.idle_timeout, now=now)
        self.state = S.IDLE
        self.connected = False
        self.target: bytes | None = None
        self.send_limit = MIN_PACKET_LENGTH   # min(ours, peer's) once connected
        self._asm = ObjectAssembler()
        self._get_packets = iter(())

    # -- dispatch -------------------------------------------------------------------------
    def _handle_frame(self, frame: bytes) -> None:
        opcode = frame[0] & 0x7F
        try:
            packet = decode_request(frame)
        except ObexDecodeError as exc:
            self._dispatch(I.MALFORMED, exc, opcode)
            return
        inputs = _REQUEST_INPUT.get(opcode)
        kind = I.UNKNOWN if inputs is None else inputs[packet.final]
        cid = find(packet.headers, HeaderId.CONNECTION_ID)
        if self.connected and kind is not I.CONNECT and cid is not None \
                and cid != self.config.connection_id:
            self._reject(opcode, ResponseCode.NOT_FOUND, f"unknown Connection-ID {cid}")
            self.state = S.CONNECTED
            return
        self._dispatch(kind, packet, opcode)

    def _dispatch(self, kind: Input, arg, opcode: int | None = None) -> None:
        try:
            handler, next_state = TRANSITIONS[(self.state, kind)]
        except KeyError:
            raise LocalProtocolError(f"{kind.name} not allowed in state {self.state.name}") from None
        try:
            override = getattr(self, handler)(arg)
        except ObexDecodeError as exc:
            if opcode is None:
                raise
            self._reject(opcode, exc.response, exc.reason)
            override = S.CONNECTED if self.connected else S.IDLE
        if self.state is not S.CLOSED:
            self.state = override or next_state

    def _send(self, event: Event) -> None:
        kind = _CALLER_INPUT.get(type(event))
        if kind is None:
            raise LocalProtocolError(f"the server cannot send {type(event).__name__}")
        self._dispatch(kind, event)

    def _respond(self, code: int, headers: tuple[Header, ...] = ()) -> None:
        self._write(Packet(code=code, headers=headers))

    def _reject(self, opcode: int, code: int, reason: str) -> None:
        if opcode == Opcode.CONNECT:
            self._write(Packet.connect(code, self.config.max_packet_length))
        else:
            self._respond(code)
        self._events.append(RequestRejected(op=opcode, code=code, reason=reason))

    def _fatal(self, exc: ObexDecodeError) -> None:
        self._respond(exc.response)
        self._close(exc.reason, code=exc.response, error=exc)

    # -- handlers: session ----------------------------------------------------------------
    def _connect(self, packet: Packet):
        before = S.CONNECTED if self.connected else S.IDLE
        if packet.max_packet_length < MIN_PACKET_LENGTH:
            raise ObexDecodeError(f"Connect max packet length {packet.max_packet_length} < 255",
                                  offset=5)
        target = find(packet.headers, HeaderId.TARGET)
        if target is None and not self.config.allow_no_target:
            self._reject(Opcode.CONNECT, ResponseCode.NOT_FOUND, "Connect without Target")
            return before
        if target is not None and target not in self.config.targets:
            self._reject(Opcode.CONNECT, ResponseCode.NOT_FOUND, f"unknown Target {target!r}")
            return before
        self.connected, self.target = True, target
        self.send_limit = min(self.config.max_packet_length, packet.max_packet_length)
        cid = None
        headers: tuple[Header, ...] = ()
        if target is not None:
            cid = self.config.connection_id
            headers = (Header(hi=HeaderId.CONNECTION_ID, value=cid),
                       Header(hi=HeaderId.WHO, value=target))
        self._write(Packet.connect(ResponseCode.SUCCESS, self.config.max_packet_length, headers))
        self._events.append(Connected(connection_id=cid, target=target,
                                      who=find(packet.headers, HeaderId.WHO),
                                      max_packet_length=self.send_limit, headers=packet.headers))
        return None

    def _disconnect(self, packet: Packet) -> None:
        self._respond(ResponseCode.SUCCESS)
        self._events.append(Disconnect(headers=packet.headers))
        self._close("disconnected", code=ResponseCode.SUCCESS)

    def _abort(self, packet: Packet) -> None:
        self._asm, self._get_packets = ObjectAssembler(), iter(())
        self._respond(ResponseCode.SUCCESS)
        self._events.append(Abort(headers=packet.headers))

    def _not_implemented(self, packet: Packet) -> None:
        self._reject(packet.opcode, ResponseCode.NOT_IMPLEMENTED, "operation not implemented")

    def _bad_opcode(self, packet: Packet) -> None:
        self._reject(packet.opcode, ResponseCode.BAD_REQUEST, f"unknown opcode 0x{packet.code:02X}")

    def _malformed(self, exc: ObexDecodeError) -> None:
        raise exc

    def _unavailable(self, packet: Packet) -> None:
        self._reject(packet.opcode, ResponseCode.SERVICE_UNAVAILABLE, "no Connect yet")

    # -- handlers: PUT --------------------------------------------------------------------
    def _begin(self, packet: Packet) -> None:
        if self.config.require_connection_id and self.target is not None \
                and find(packet.headers, HeaderId.CONNECTION_ID) is None:
            raise ObexDecodeError("request without Connection-ID",
                                  response=ResponseCode.SERVICE_UNAVAILABLE)
        self._asm = ObjectAssembler(self.config.max_object_size)
        self._asm.add(packet.headers)

    def _put_start(self, packet: Packet) -> None:
        self._begin(packet)
        self._respond(ResponseCode.CONTINUE)

    def _put_more(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        self._respond(ResponseCode.CONTINUE)

    def _put_single(self, packet: Packet) -> None:
        self._begin(packet)
        self._emit_put()

    def _put_last(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        self._emit_put()

    def _emit_put(self) -> None:
        asm = self._asm
        raw_type = asm.find(HeaderId.TYPE)
        self._events.append(PutRequest(
            type=None if raw_type is None else type_text(raw_type), body=asm.body,
            name=asm.find(HeaderId.NAME), length=asm.find(HeaderId.LENGTH),
            headers=tuple(asm.headers), delete=not asm.body_seen))
        self._asm = ObjectAssembler()

    def _reply_put(self, event: Response) -> None:
        self._respond(event.code, event.headers)

    # -- handlers: GET --------------------------------------------------------------------
    def _get_start(self, packet: Packet) -> None:
        self._begin(packet)
        self._respond(ResponseCode.CONTINUE)

    def _get_more(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        self._respond(ResponseCode.CONTINUE)

    def _get_single(self, packet: Packet) -> None:
        self._begin(packet)
        self._emit_get()

    def _get_last(self, packet: Packet) -> None:
        self._asm.add(packet.headers)
        self._emit_get()

    def _emit_get(self) -> None:
        raw_type = self._asm.find(HeaderId.TYPE)
        self._events.append(GetRequest(
            type=None if raw_type is None else type_text(raw_type),
            name=self._asm.find(HeaderId.NAME), headers=tuple(self._asm.headers)))
        self._asm = ObjectAssembler()

    def _reply_get(self, event: GetResponse):
        first = [Header(hi=HeaderId.LENGTH, value=len(event.body))]
        if event.type is not None:
            first.append(Header(hi=HeaderId.TYPE, value=type_bytes(event.type)))
        first.extend(event.headers)
        self._get_packets = split_object(first, event.body, self.send_limit)
        return self._get_next(None)

    def _get_next(self, packet: Packet | None):
        headers, last = next(self._get_packets)
        if last:
            self._get_packets = iter(())
            self._respond(ResponseCode.SUCCESS, headers)
            return S.CONNECTED
        self._respond(ResponseCode.CONTINUE, headers)
        return None

    def _reply_get_error(self, event: Response) -> None:
        self._respond(event.code, event.headers)
