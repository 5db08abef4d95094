"""SAN over SIP: a MESSAGE (or NOTIFY) with the SAN as its binary body, over UDP or TCP,
straight to the target's host or through a configured proxy (omads-protocol.md §7.4).
Its Content-Type is the payload's: the DS 1.2 SAN type, or the SyncML type of the legacy
1.1 form (§6.2).

Hosts ``notify.sip_client.SanSender`` (the RFC 3261 non-INVITE transaction with timers
E/F/K and digest answers) in a ``DatagramHost``: one UDP socket or TCP connection per
send (on TCP each framed SIP message is one item of the sender's input and output). A 200
from the handset counts as delivered; 202 (a store-and-forward relay) as sent.
"""

from __future__ import annotations

import random
import re
import secrets
from typing import Any, Callable

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol

from gateway.notify import sip
from gateway.notify.errors import SIPDecodeError
from gateway.notify.sip_client import SanSender, SendSan, SipConfig, SipDelivered, SipFailed
from gateway.transport import logs
from gateway.transport.host import DatagramHost
from gateway.transport.notify.carriers.base import CarrierError, Sent, resolve, split_hostport
from gateway.notifier.payload import Payload

log = logs.get_logger("gateway.notify.sip")

_URI_HOST = re.compile(r"sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?")
MAX_STREAM_BUFFER = 65536


def uri_destination(uri: str, default_port: int = 5060) -> tuple[str, int]:
    m = _URI_HOST.match(uri)
    if not m:
        raise CarrierError(f"cannot find a host in {uri!r}")
    return m.group(1).strip("[]"), int(m.group(2) or default_port)


class _Exchange:
    """One SanSender in a DatagramHost: its events settle ``done``."""

    def __init__(self, reactor: Any, sender: SanSender):
        self.done: Deferred[Sent] = Deferred()
        self.host = DatagramHost(sender, reactor=reactor, on_event=self._on_event)

    def feed(self, message: bytes) -> None:
        try:
            self.host.receive_data(message)
        except SIPDecodeError as e:
            log.warn("dropped a SIP message we cannot use: {error}", error=e)

    def _on_event(self, event: Any) -> None:
        if self.done.called:
            return
        if isinstance(event, SipDelivered):
            self.done.callback(Sent(delivered=event.status == 200,
                                    detail=f"SIP {event.status} {event.reason}"))
        elif isinstance(event, SipFailed):
            status = "no final response" if event.status is None else f"SIP {event.status}"
            self.done.errback(CarrierError(f"{status}: {event.reason}"))


class _UDP(DatagramProtocol):
    exchange: _Exchange | None = None

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        if self.exchange is not None:
            self.exchange.feed(datagram)


class _TCP(Protocol):
    exchange: _Exchange | None = None

    def __init__(self) -> None:
        self.buffer = b""
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        messages, self.buffer = sip.split_stream(self.buffer)
        for message in messages:
            if self.exchange is not None:
                self.exchange.feed(message)
        if len(self.buffer) > MAX_STREAM_BUFFER:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any = None) -> None:
        if self.exchange is not None:
            self.exchange.host.connection_lost()
        self.lost.callback(None)


class SIPCarrier:
    kind = "sip"
    sms = False

    def __init__(self, settings: Any, *, reactor: Any, rng: random.Random | None = None):
        self.settings = settings
        self.reactor = reactor
        self.rng = rng or random.Random(secrets.randbits(64))

    def sms_parts(self, payload: Payload) -> int:
        return 0

    def _config(self, target: str, via_port: int, transport: str,
                content_type: str) -> SipConfig:
        s = self.settings
        return SipConfig(target_uri=target, from_uri=s.from_uri, via_host=s.local_host,
                         via_port=via_port, transport=transport, method=s.method,
                         content_type=content_type,
                         event=s.event if s.method == "NOTIFY" else None,
                         username=s.username, password=s.password)

    def _destination(self, target: str) -> tuple[str, int]:
        if self.settings.proxy:
            return split_hostport(self.settings.proxy, 5060)
        return uri_destination(target)

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        host, port = self._destination(address)
        ip = yield resolve(self.reactor, host)
        if self.settings.transport == "tcp":
            return (yield self._send_tcp(address, payload, ip, port))
        return (yield self._send_udp(address, payload, ip, port))

    def _start(self, target: str, payload: Payload, via_port: int, transport: str,
               write: Callable[[bytes], None]) -> _Exchange:
        config = self._config(target, via_port, transport, payload.content_type)
        exchange = _Exchange(self.reactor, SanSender(config, rng=self.rng))
        exchange.host.attach(write)
        try:
            exchange.host.send(SendSan(body=payload.san))
        except ValueError as e:
            raise CarrierError(str(e)) from None
        return exchange

    @inlineCallbacks
    def _send_udp(self, target: str, payload: Payload, ip: str, port: int) -> Any:
        proto = _UDP()
        udp = self.reactor.listenUDP(0, proto, interface=self.settings.local_host)
        try:
            proto.exchange = self._start(target, payload, udp.getHost().port, "UDP",
                                         lambda data: udp.write(data, (ip, port)))
            return (yield proto.exchange.done)
        finally:
            if proto.exchange is not None:
                proto.exchange.host.stop()
            yield udp.stopListening()

    @inlineCallbacks
    def _send_tcp(self, target: str, payload: Payload, ip: str, port: int) -> Any:
        endpoint = TCP4ClientEndpoint(self.reactor, ip, port, timeout=10,
                                      bindAddress=(self.settings.local_host, 0))
        try:
            proto = yield endpoint.connect(Factory.forProtocol(_TCP))
        except Exception as e:
            raise CarrierError(f"cannot connect to {ip}:{port}: {e}") from None
        try:
            proto.exchange = self._start(target, payload, proto.transport.getHost().port,
                                         "TCP", proto.transport.write)
            return (yield proto.exchange.done)
        finally:
            if proto.exchange is not None:
                proto.exchange.host.stop()
            if not proto.lost.called:
                proto.transport.loseConnection()
                yield proto.lost

    def stop(self) -> None:
        return None
