"""The gateway as OBEX client: dial a handset and run a server-alerted SyncML session.

``ObexClientProtocol`` hosts an :class:`gateway.obex.ObexClient` (after an optional
``AT+CPROT=0`` preamble on serial cables) and turns each request into a Deferred.
``alerted_session`` is the SyncML part (omads-protocol.md §5.1 "Who is OBEX client"):
Connect with Target ``SYNCML-SYNC``, PUT the SAN (``application/vnd.syncml.ds.notification``),
GET the handset's first message, run it through the engine exactly as HTTP does, PUT the
reply, GET the next one... until the engine ends the session; then Disconnect.
``dial`` opens the link named by a ``--via`` string (``obex:tcp:HOST:PORT``,
``obex:serial:/dev/ttyX``, ``obex:bt:MAC:CHANNEL``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Callable

from twisted.internet.defer import Deferred, inlineCallbacks, succeed

from gateway.ds.server.handler import Request
from gateway.obex import (ClientConfig, ConnectRequest, ConnectionClosed, Connected,
                          Disconnect, GetRequest, ObexClient, PutRequest, Response)
from gateway.obex.at import AtDialer, AtFailed, Dial, ObexStarted
from gateway.obex.constants import TARGET_SYNCML_SYNC, TYPE_SYNCML_SAN, HeaderId
from gateway.obex.headers import find, type_text
from gateway.transport.host import CoreHost, HostedProtocol
from gateway.transport.logs import get_logger

__all__ = ["DialError", "DialTarget", "parse_via", "ObexClientProtocol", "alerted_session",
           "dial", "DialResult", "check_ok", "message_of"]

log = get_logger("gateway.transport.obex")


class DialError(Exception):
    """The link or the OBEX/SyncML exchange with the handset failed."""


@dataclass(frozen=True, kw_only=True)
class DialTarget:
    """A parsed ``--via``: kind "tcp" (host, port), "serial" (device), "bt" (mac, channel)."""

    kind: str
    text: str
    host: str = ""
    port: int = 0
    device: str = ""
    mac: str = ""
    channel: int | None = None


def parse_via(text: str) -> DialTarget:
    """Parse ``obex:tcp:HOST:PORT|obex:serial:/dev/ttyX|obex:bt:MAC[:CHANNEL]``."""
    prefix, _, rest = text.partition(":")
    kind, _, rest = rest.partition(":")
    if prefix != "obex" or kind not in ("tcp", "serial", "bt"):
        raise ValueError(f"{text!r}: use obex:tcp:HOST:PORT, obex:serial:/dev/ttyX or "
                         "obex:bt:MAC[:CHANNEL]")
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r}: obex:tcp needs HOST:PORT")
        return DialTarget(kind=kind, text=text, host=host.strip("[]"), port=int(port))
    if kind == "serial":
        if not rest.startswith("/"):
            raise ValueError(f"{text!r}: obex:serial needs a device path")
        return DialTarget(kind=kind, text=text, device=rest)
    parts = rest.split(":")
    if len(parts) not in (6, 7) or not all(len(p) == 2 for p in parts[:6]):
        raise ValueError(f"{text!r}: obex:bt needs a MAC such as 00:11:22:33:44:55")
    channel = None
    if len(parts) == 7:
        if not parts[6].isdigit() or not 1 <= int(parts[6]) <= 30:
            raise ValueError(f"{text!r}: RFCOMM channel must be 1..30")
        channel = int(parts[6])
    return DialTarget(kind=kind, text=text, mac=":".join(parts[:6]).upper(), channel=channel)


class ObexClientProtocol(HostedProtocol):
    """OBEX client requests as Deferreds: ``connect``/``put``/``get``/``disconnect`` fire
    with the core's ``Connected`` or final ``Response``; a lost link fails them. The cores
    run in a :class:`CoreHost`: the AT dialer first (with ``at_dial``), then the OBEX core."""

    def __init__(self, *, reactor: Any, config: ClientConfig | None = None,
                 at_dial: bool = False, at_timeout: float = 10.0):
        self.reactor = reactor
        self.config = config or ClientConfig(idle_timeout=60.0)
        self.at_dial = at_dial
        self.core = ObexClient(self.config, now=reactor.seconds())
        self.ready: Deferred[None] = Deferred()
        self.closed: Deferred[str] = Deferred()
        self._pending: Deferred[Any] | None = None
        self._lost = False
        first = AtDialer(timeout=at_timeout) if at_dial else self.core
        self.host = CoreHost(first, reactor=reactor, on_event=self._on_event)

    def connectionMade(self) -> None:
        super().connectionMade()
        if self.at_dial:
            self.host.send(Dial())
        else:
            self.ready.callback(None)

    def _on_event(self, event: Any) -> None:
        if self._lost:
            return                    # connectionLost fails what is pending
        if isinstance(event, ObexStarted):
            self.host.switch(self.core)
            self.ready.callback(None)
            if event.data:
                self.host.receive_data(event.data)
        elif isinstance(event, AtFailed):
            self.ready.errback(DialError(f"AT preamble: {event.reason}"))
            self.transport.loseConnection()
        elif isinstance(event, (Connected, Response)):
            d, self._pending = self._pending, None
            if d is not None:
                d.callback(event)
        elif isinstance(event, ConnectionClosed):
            d, self._pending = self._pending, None
            if d is not None:
                if event.reason == "disconnected":
                    d.callback(Response(code=event.code or 0xA0))
                else:
                    d.errback(DialError(f"OBEX session ended: {event.reason}"))
            self.transport.loseConnection()

    def request(self, event: Any) -> Deferred[Any]:
        if self._lost:
            raise DialError("the link is closed")
        if self._pending is not None:
            raise DialError("a request is already outstanding")
        d: Deferred[Any] = Deferred()
        self._pending = d
        self.host.send(event)
        return d

    def connect(self, target: bytes | None = TARGET_SYNCML_SYNC) -> Deferred[Any]:
        return self.request(ConnectRequest(target=target))

    def put(self, type: str | None, body: bytes, name: str | None = None) -> Deferred[Any]:
        return self.request(PutRequest(type=type, body=body, name=name))

    def get(self, type: str | None, name: str | None = None) -> Deferred[Any]:
        return self.request(GetRequest(type=type, name=name))

    def disconnect(self) -> Deferred[Any]:
        return self.request(Disconnect())

    def connectionLost(self, reason: Any = None) -> None:
        self._lost = True
        super().connectionLost(reason)
        if not self.ready.called:
            self.ready.errback(DialError("link closed before OBEX started"))
        d, self._pending = self._pending, None
        if d is not None:
            d.errback(DialError("link closed by the handset"))
        if not self.closed.called:
            self.closed.callback("lost")


@dataclass(frozen=True, kw_only=True)
class DialResult:
    messages: int       # handset messages the engine answered
    session: str | None  # the last session key the engine gave (None: session ended)


def check_ok(event: Any, what: str, *, peer: str = "the handset") -> Any:
    """``event``, unless it is a final Response that refuses: then a DialError."""
    if isinstance(event, Response) and not event.ok:
        raise DialError(f"{what} refused by {peer}: 0x{event.code:02X}")
    return event


def message_of(got: Response, default_type: str, *, peer: str = "the handset"
               ) -> tuple[bytes, str]:
    """The SyncML message a GET brought: its body and media type (the Type header, else
    ``default_type``); an empty body is a DialError."""
    raw_type = find(got.headers, HeaderId.TYPE)
    if not got.body:
        raise DialError(f"{peer} sent an empty message")
    return got.body, type_text(raw_type) if isinstance(raw_type, bytes) else default_type


@inlineCallbacks
def alerted_session(client: ObexClientProtocol, *, engine: Any, run: Callable[..., Any],
                    san: bytes, reactor: Any, peer: str, san_type: str = TYPE_SYNCML_SAN,
                    encoding: str = "application/vnd.syncml+wbxml",
                    base_url: str = "obex:dial", max_messages: int = 1000) -> Any:
    """Run one server-alerted session over a connected client; fires a DialResult."""
    yield client.ready
    check_ok((yield client.connect(TARGET_SYNCML_SYNC)), "Connect")
    check_ok((yield client.put(san_type, san)), "PUT of the notification")
    session, count = None, 0
    while count < max_messages:
        body, ctype = message_of(check_ok((yield client.get(encoding)), "GET"), encoding)
        count += 1
        request = Request(body=body, content_type=ctype, session=session,
                          base_url=base_url, peer=peer, now=reactor.seconds())
        answer = yield run(engine.handle, request)
        session = answer.session
        check_ok((yield client.put(answer.content_type, answer.body)), "PUT of our message")
        if session is None:
            break
    yield client.disconnect()
    log.info("alerted session with {peer} done: {count} messages", peer=peer, count=count,
             session=session, device=None)
    return DialResult(messages=count, session=session)


def dial(reactor: Any, target: DialTarget, *, timeout: float = 30.0,
         config: ClientConfig | None = None,
         open_serial: Callable[..., Any] | None = None,
         bt_socket: Callable[[], socket.socket] | None = None) -> Deferred[ObexClientProtocol]:
    """Open the link; fires with a connected ObexClientProtocol (OBEX not yet connected)."""
    config = config or ClientConfig(idle_timeout=timeout)
    if target.kind == "tcp":
        from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
        proto = ObexClientProtocol(reactor=reactor, config=config)
        endpoint = HostnameEndpoint(reactor, target.host.encode("idna"), target.port,
                                    timeout=timeout)
        return connectProtocol(endpoint, proto)
    if target.kind == "serial":
        if open_serial is None:
            from twisted.internet.serialport import SerialPort
            open_serial = SerialPort
        proto = ObexClientProtocol(reactor=reactor, config=config, at_dial=True,
                                   at_timeout=min(timeout, 10.0))
        try:
            open_serial(proto, target.device, reactor, baudrate=115200)
        except Exception as e:
            raise DialError(f"cannot open {target.device}: {e}") from None
        return succeed(proto)
    return _dial_bt(reactor, target, config, timeout, bt_socket)


def _dial_bt(reactor: Any, target: DialTarget, config: ClientConfig, timeout: float,
             bt_socket: Callable[[], socket.socket] | None) -> Deferred[ObexClientProtocol]:
    from twisted.internet.threads import deferToThread

    from gateway.transport.obex.links import RfcommTransport
    if target.channel is None:
        raise DialError(f"{target.text}: give the handset's RFCOMM channel "
                        "(obex:bt:MAC:CHANNEL); SDP search is not implemented")
    family = getattr(socket, "AF_BLUETOOTH", None)
    if bt_socket is None:
        if family is None:
            raise DialError("this Python has no AF_BLUETOOTH support")
        bt_socket = lambda: socket.socket(family, socket.SOCK_STREAM,  # noqa: E731
                                          socket.BTPROTO_RFCOMM)
    sock = bt_socket()
    sock.settimeout(timeout)
    address = (target.mac, target.channel)

    def connected(_: Any) -> ObexClientProtocol:
        proto = ObexClientProtocol(reactor=reactor, config=config)
        transport = RfcommTransport(sock, address, reactor)
        transport.protocol = proto
        proto.makeConnection(transport)
        transport.startReading()
        return proto

    def failed(f: Any) -> Any:
        sock.close()
        raise DialError(f"cannot connect to {target.mac} channel {target.channel}: "
                        f"{f.getErrorMessage()}")

    d = deferToThread(sock.connect, address)
    return d.addCallbacks(connected, failed)
