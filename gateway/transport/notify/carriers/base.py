"""What every notification carrier offers.

A carrier sends one ``Payload`` to one address and fires its Deferred with ``Sent``
(``delivered`` when the carrier confirms the handset got it; ``report_parts`` when it
asked for that many SMS delivery reports, which settle the notification later) or fails
with ``CarrierError``. The service bounds every send with its own timeout.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol as TypingProtocol

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.protocol import Protocol

from gateway.notify.udh import split_user_data
from gateway.notifier.payload import Payload

# A PPG adds its own WSP headers (content type as text, Content-Length, Encoding-Version:
# about 45 octets for a SAN, omads-protocol.md / peers lab §1.3) before splitting.
PPG_HEADER_ALLOWANCE = 45


class CarrierError(Exception):
    """A send failed; ``reason`` is recorded with the notification."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True, slots=True)
class Sent:
    delivered: bool = False
    detail: str = ""
    report_parts: int = 0


class Carrier(TypingProtocol):
    kind: str          # modem, kannel, pap, sip, udp
    sms: bool          # costs SMS (counted against the daily budget)

    def send(self, address: str, payload: Payload) -> Deferred[Sent]: ...
    def sms_parts(self, payload: Payload) -> int: ...
    def stop(self) -> Deferred[None] | None: ...


class _Collect(Protocol):
    def __init__(self, limit: int, done: Deferred[bytes]):
        self.limit, self.done, self.chunks, self.size = limit, done, [], 0

    def dataReceived(self, data: bytes) -> None:
        if self.size < self.limit:
            self.chunks.append(data[:self.limit - self.size])
            self.size += len(data)

    def connectionLost(self, reason: Any = None) -> None:
        from twisted.web.client import ResponseDone
        from twisted.web.http import PotentialDataLoss
        if reason is None or reason.check(ResponseDone, PotentialDataLoss):
            self.done.callback(b"".join(self.chunks))
        else:
            self.done.errback(reason)


def read_body(response: Any, limit: int = 65536) -> Deferred[bytes]:
    """The first ``limit`` bytes of an Agent response body (the rest is discarded)."""
    done: Deferred[bytes] = Deferred()
    response.deliverBody(_Collect(limit, done))
    return done


@inlineCallbacks
def http_request(agent: Any, method: bytes, url: str, headers: Any, *, body: bytes | None = None,
                 limit: int, what: str) -> Any:
    """One request through an Agent; fires with (response, the first ``limit`` bytes of its
    body); any failure to get them is a CarrierError ``"<what> unreachable: ..."``."""
    from io import BytesIO

    from twisted.web.client import FileBodyProducer
    producer = None if body is None else FileBodyProducer(BytesIO(body))
    try:
        response = yield agent.request(method, url.encode("ascii"), headers, producer)
        data = yield read_body(response, limit)
    except Exception as e:
        raise CarrierError(f"{what} unreachable: {e}") from None
    return response, data


def sms_parts_for(push: bytes, *, extra: int = 0) -> int:
    """How many SMS a push PDU of this size needs (port UDH, 8-bit concatenation)."""
    return len(split_user_data(push + bytes(extra), ref=0))


def split_hostport(address: str, default_port: int) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` too) -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return address.strip("[]"), default_port
    return host.strip("[]"), int(port)


@inlineCallbacks
def resolve(reactor: Any, host: str) -> Any:
    """Fires with ``host`` as an IP address (itself if it is one, else the reactor's
    resolver's answer); fails with CarrierError if it cannot be resolved."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        return (yield reactor.resolve(host))
    except Exception as e:
        raise CarrierError(f"cannot resolve {host}: {e}") from None
