"""SAN over SIP: a MESSAGE (or NOTIFY) with the SAN as its binary body, over UDP or TCP,
straight to the target's host or through a configured proxy (omads-protocol.md §7.4).
Its Content-Type is the payload's: the DS 1.2 SAN type, or the SyncML type of the legacy
1.1 form (§6.2).

Hosts ``notify.sip_client.SanSender`` (the RFC 3261 non-INVITE transaction with timers
E/F/K and digest answers): one UDP socket or TCP connection per send. A 200 from the
handset counts as delivered; 202 (a store-and-forward relay) as sent.
"""

from __future__ import annotations

import random
import re
import secrets
from typing import Any, Callable

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol

from gateway.notify.errors import SIPDecodeError
from gateway.notify.sip_client import SanSender, SipConfig, SipDelivered, SipFailed
from gateway.transport import logs
from gateway.transport.notify.carriers.base import CarrierError, Sent
from gateway.notifier.payload import Payload

log = logs.get_logger("gateway.notify.sip")

_URI_HOST = re.compile(r"sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?")
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$",
                             re.IGNORECASE | re.MULTILINE)
MAX_STREAM_BUFFER = 65536


def uri_destination(uri: str, default_port: int = 5060) -> tuple[str, int]:
    m = _URI_HOST.match(uri)
    if not m:
        raise CarrierError(f"cannot find a host in {uri!r}")
    return m.group(1).strip("[]"), int(m.group(2) or default_port)


class _Exchange:
    """Drives one SanSender: writes its output, re-arms its timer, settles ``done``."""

    def __init__(self, reactor: Any, write: Callable[[bytes], None], done: Deferred):
        self.reactor = reactor
        self.write = write
        self.done = done
        self.sender: SanSender | None = None
        self._timer: Any = None

    def start(self, sender: SanSender) -> None:
        self.sender = sender
        self.flush()

    def feed(self, message: bytes) -> None:
        if self.sender is None or self.done.called:
            return
        try:
            self.sender.receive_data(message, self.reactor.seconds())
        except SIPDecodeError as e:
            log.warn("dropped a SIP message we cannot use: {error}", error=e)
        self.flush()

    def flush(self) -> None:
        sender = self.sender
        if sender is None:
            return
        for data in sender.datagrams_to_send():
            self.write(data)
        while (event := sender.next_event()) is not None:
            if self.done.called:
                continue
            if isinstance(event, SipDelivered):
                self.done.callback(Sent(delivered=event.status == 200,
                                        detail=f"SIP {event.status} {event.reason}"))
            elif isinstance(event, SipFailed):
                status = "no final response" if event.status is None else f"SIP {event.status}"
                self.done.errback(CarrierError(f"{status}: {event.reason}"))
        self.cancel_timer()
        deadline = sender.next_deadline()
        if deadline is not None:
            self._timer = self.reactor.callLater(max(0.0, deadline - self.reactor.seconds()),
                                                 self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self.sender is not None:
            self.sender.handle_timeout(self.reactor.seconds())
            self.flush()

    def cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


class _UDP(DatagramProtocol):
    def __init__(self, exchange: _Exchange):
        self.exchange = exchange

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.exchange.feed(datagram)


class _TCP(Protocol):
    exchange: _Exchange

    def __init__(self) -> None:
        self.buffer = b""
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            m = _CONTENT_LENGTH.search(self.buffer[:end])
            size = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buffer) < size:
                break
            message, self.buffer = self.buffer[:size], self.buffer[size:]
            self.exchange.feed(message)
        if len(self.buffer) > MAX_STREAM_BUFFER:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any = None) -> None:
        if not self.exchange.done.called:
            self.exchange.done.errback(CarrierError("SIP TCP connection closed"))
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
            host, _, port = self.settings.proxy.rpartition(":")
            return host.strip("[]"), int(port)
        return uri_destination(target)

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        host, port = self._destination(address)
        try:
            ip = host if re.fullmatch(r"[0-9.]+|[0-9A-Fa-f:]+", host) else (
                yield self.reactor.resolve(host))
        except Exception as e:
            raise CarrierError(f"cannot resolve {host}: {e}") from None
        if self.settings.transport == "tcp":
            return (yield self._send_tcp(address, payload, ip, port))
        return (yield self._send_udp(address, payload, ip, port))

    @inlineCallbacks
    def _send_udp(self, target: str, payload: Payload, ip: str, port: int) -> Any:
        done: Deferred[Sent] = Deferred()
        exchange = _Exchange(self.reactor, lambda data: udp.write(data, (ip, port)), done)
        udp = self.reactor.listenUDP(0, _UDP(exchange), interface=self.settings.local_host)
        try:
            config = self._config(target, udp.getHost().port, "UDP", payload.content_type)
            try:
                sender = SanSender(config, payload.san, self.reactor.seconds(), rng=self.rng)
            except ValueError as e:
                raise CarrierError(str(e)) from None
            exchange.start(sender)
            return (yield done)
        finally:
            exchange.cancel_timer()
            yield udp.stopListening()

    @inlineCallbacks
    def _send_tcp(self, target: str, payload: Payload, ip: str, port: int) -> Any:
        done: Deferred[Sent] = Deferred()
        endpoint = TCP4ClientEndpoint(self.reactor, ip, port, timeout=10,
                                      bindAddress=(self.settings.local_host, 0))
        try:
            proto = yield endpoint.connect(Factory.forProtocol(_TCP))
        except Exception as e:
            raise CarrierError(f"cannot connect to {ip}:{port}: {e}") from None
        exchange = _Exchange(self.reactor, proto.transport.write, done)
        proto.exchange = exchange
        try:
            config = self._config(target, proto.transport.getHost().port, "TCP",
                                  payload.content_type)
            exchange.start(SanSender(config, payload.san, self.reactor.seconds(), rng=self.rng))
            return (yield done)
        finally:
            exchange.cancel_timer()
            if not proto.lost.called:
                proto.transport.loseConnection()
                yield proto.lost

    def stop(self) -> None:
        return None
