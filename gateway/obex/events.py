"""Events of the OBEX state machines: frozen, keyword-only values, shared by both roles.

A client ``send()``s ``ConnectRequest``/``PutRequest``/``GetRequest``/``Disconnect``/``Abort``;
the server emits the same classes when it receives them and ``send()``s ``Response`` or
``GetResponse`` to answer a pending PUT/GET. Don't subclass these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .constants import Opcode, ResponseCode, response_name
from .errors import LocalProtocolError, ObexDecodeError
from .headers import Header

__all__ = ["Event", "ConnectRequest", "Connected", "PutRequest", "GetRequest", "GetResponse",
           "Response", "Disconnect", "Abort", "RequestRejected", "ConnectionClosed"]


def _headers(value) -> tuple[Header, ...]:
    value = tuple(value)
    if not all(isinstance(h, Header) for h in value):
        raise LocalProtocolError("headers must be Header values")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of all OBEX events."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectRequest(Event):
    """Connect with an optional Target (``b"SYNCML-SYNC"`` for DS, §5.1)."""

    target: bytes | None = None
    headers: tuple[Header, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    """A Connect succeeded. ``max_packet_length`` is the negotiated size we send with
    (min of both sides'); ``headers`` are the peer's Connect (response) headers."""

    connection_id: int | None
    target: bytes | None
    who: bytes | None
    max_packet_length: int
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PutRequest(Event):
    """A whole PUT object. ``type`` is the MIME type without its trailing NUL; ``length``
    the Length header (None if absent); ``headers`` all other non-body headers, in order.
    ``delete`` is a PUT without any Body/End-of-Body header (OBEX delete)."""

    type: str | None = None
    body: bytes = b""
    name: str | None = None
    length: int | None = None
    headers: tuple[Header, ...] = ()
    delete: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))
        if not isinstance(self.body, (bytes, bytearray, memoryview)):
            raise LocalProtocolError("PutRequest.body must be bytes")
        object.__setattr__(self, "body", bytes(self.body))
        if self.delete and self.body:
            raise LocalProtocolError("a delete PUT has no body")


@dataclass(frozen=True, slots=True, kw_only=True)
class GetRequest(Event):
    """A GET for an object by Type and/or Name; ``headers`` are all request headers."""

    type: str | None = None
    name: str | None = None
    headers: tuple[Header, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))


@dataclass(frozen=True, slots=True, kw_only=True)
class GetResponse(Event):
    """The server's answer to a pending GET: the body is split over Continue responses and
    ends with Success + End-of-Body; the first packet carries Length (+ Type, headers)."""

    body: bytes
    type: str | None = None
    headers: tuple[Header, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))
        object.__setattr__(self, "body", bytes(self.body))


@dataclass(frozen=True, slots=True, kw_only=True)
class Response(Event):
    """A final response. The server ``send()``s it to answer a pending PUT (or to refuse a
    GET); the client emits it when an operation ends. ``op`` is the request it answers,
    ``body`` the collected GET body (client side)."""

    code: int = ResponseCode.SUCCESS
    op: Opcode | None = None
    headers: tuple[Header, ...] = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))
        if not 0x90 <= self.code <= 0xFF or self.code == ResponseCode.CONTINUE:
            raise LocalProtocolError(f"{self.code!r} is not a final response code")

    @property
    def ok(self) -> bool:
        return 0xA0 <= self.code < 0xB0

    def __str__(self) -> str:
        return f"{self.op.name if self.op is not None else '?'} -> {response_name(self.code)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnect(Event):
    """Disconnect: sent by the client, emitted by the server (who then closes)."""

    headers: tuple[Header, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))


@dataclass(frozen=True, slots=True, kw_only=True)
class Abort(Event):
    """Abort the operation in progress: sent by the client, emitted by the server."""

    headers: tuple[Header, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _headers(self.headers))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRejected(Event):
    """The server answered a request with an error by itself (one log line's worth)."""

    op: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosed(Event):
    """The OBEX session is over (EOF, idle timeout, Disconnect answered on the client side,
    or a peer error that cannot be recovered from); close the transport after flushing."""

    reason: str
    code: int | None = None
    error: ObexDecodeError | None = field(default=None, compare=False)
