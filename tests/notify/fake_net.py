"""A reactor for carrier unit tests: a ``Clock`` that is also a loopback UDP network.

``listenUDP`` binds a protocol to an address; a port's ``write(data, addr)`` hands the
datagram to whatever listens at ``addr`` one clock turn later (nothing listening: it is
lost, as on a real network; an exception in the receiver is kept in ``errors``, where a
reactor would log it). ``settle`` turns the clock until a Deferred fires. No
sockets and no wall time, so timers (SIP timer E and F, modem timeouts) run exactly.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import Clock


class _Port:
    def __init__(self, net: "UdpNet", address: tuple[str, int], protocol: Any):
        self.net, self.address, self.protocol = net, address, protocol
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def getHost(self) -> IPv4Address:
        return IPv4Address("UDP", *self.address)

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))
        self.net.callLater(0, self.net.deliver, data, self.address, addr)

    def stopListening(self) -> Deferred[None]:
        self.net.ports.pop(self.address, None)
        self.protocol.doStop()
        return succeed(None)


class UdpNet(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.ports: dict[tuple[str, int], _Port] = {}
        self.lost: list[tuple[bytes, tuple[str, int]]] = []
        self.errors: list[Exception] = []
        self._next_port = 40000

    def listenUDP(self, port: int, protocol: Any, interface: str = "",
                  maxPacketSize: int = 8192) -> _Port:
        if not port:
            self._next_port += 1
            port = self._next_port
        address = (interface or "127.0.0.1", port)
        bound = self.ports[address] = _Port(self, address, protocol)
        protocol.makeConnection(bound)
        return bound

    def deliver(self, data: bytes, source: tuple[str, int], dest: tuple[str, int]) -> None:
        port = self.ports.get(tuple(dest))
        if port is None:
            self.lost.append((data, dest))
            return
        try:
            port.protocol.datagramReceived(data, source)
        except Exception as e:           # a reactor logs it and goes on
            self.errors.append(e)


def settle(clock: Clock, d: Deferred, *, until: float = 3600.0) -> Any:
    """Turn ``clock`` (to each next timer, up to ``until`` seconds) until ``d`` fires;
    returns its result or raises its failure."""
    out: list = []
    d.addBoth(out.append)
    while not out:
        calls = clock.getDelayedCalls()
        assert calls and clock.seconds() <= until, "the Deferred never fired"
        clock.advance(max(0.0, min(c.getTime() for c in calls) - clock.seconds()))
    result = out[0]
    if hasattr(result, "raiseException"):
        result.raiseException()
    return result
