"""WAP Push over plain UDP (WDP over IP): the WSP push PDU in one datagram to port 2948
(omads-protocol.md §7.1). Connectionless: "sent" is all we can ever know."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.protocol import DatagramProtocol

from gateway.transport.notify.carriers.base import CarrierError, Sent, resolve, split_hostport
from gateway.notifier.payload import Payload

WDP_PUSH_PORT = 2948
MAX_DATAGRAM = 65507


class _Sink(DatagramProtocol):
    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        pass      # a handset does not answer a connectionless push


class UDPCarrier:
    kind = "udp"
    sms = False

    def __init__(self, settings: Any, *, reactor: Any):
        self.settings = settings
        self.reactor = reactor
        self._port: Any = None

    def sms_parts(self, payload: Payload) -> int:
        return 0

    def _listening(self) -> Any:
        if self._port is None:
            self._port = self.reactor.listenUDP(0, _Sink(), interface=self.settings.bind)
        return self._port

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        host, port = split_hostport(address, WDP_PUSH_PORT)
        if len(payload.push) > MAX_DATAGRAM:
            raise CarrierError("push PDU too large for one datagram")
        ip = yield resolve(self.reactor, host)
        try:
            self._listening().write(payload.push, (ip, port))
        except OSError as e:
            raise CarrierError(f"UDP send to {ip}:{port} failed: {e}") from None
        return Sent(detail=f"datagram of {len(payload.push)} bytes to {ip}:{port}")

    def stop(self) -> Deferred[None] | None:
        port, self._port = self._port, None
        return port.stopListening() if port is not None else None
