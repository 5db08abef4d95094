"""Bad input: each gets an OBEX error response or a clean close within the idle timeout,
and a concurrent good session is not disturbed.

The listener's protocol runs on a ``StringTransport`` with a ``MemoryReactorClock``, so
the idle timers are exact and take no wall time; one case keeps real TCP connections on a
real reactor: garbage links and a whole captured session at the same time."""

from __future__ import annotations

import socket
import struct
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.internet.threads import deferToThread

from gateway.obex import ResponseCode
from gateway.transport.obex.protocol import ObexSyncProtocol
from tests.obex_links.conftest import server_config

CONNECT = bytes([0x80]) + struct.pack(">H", 7 + 14) + bytes([0x10, 0, 0x04, 0x00]) \
    + bytes([0x46]) + struct.pack(">H", 14) + b"SYNCML-SYNC"


def raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``data`` over TCP, read until the server closes or ``wait`` seconds pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return got + b"<closed>"
                got += chunk
        except socket.timeout:
            return got


def on_clock(engine: Any, data: bytes, config: Any, *, wait: float) -> tuple[bytes, float | None]:
    """Send ``data`` to the listener's protocol on a StringTransport, let ``wait`` seconds
    pass on its clock; returns what it wrote (+ ``<closed>`` if it closed the link) and
    the clock time at which it closed (None: still open)."""
    reactor = MemoryReactorClock()
    proto = ObexSyncProtocol(engine=engine, run=lambda fn, *a: defer.maybeDeferred(fn, *a),
                             reactor=reactor, config=config, base_url="obex://tcp",
                             link="tcp-test")
    transport = StringTransport()
    proto.makeConnection(transport)
    if data:
        proto.dataReceived(data)
    closed_at = 0.0 if transport.disconnecting else None
    while closed_at is None and reactor.getDelayedCalls() and reactor.seconds() < wait:
        reactor.advance(min(c.getTime() for c in reactor.getDelayedCalls()) - reactor.seconds())
        if transport.disconnecting:
            closed_at = reactor.seconds()
    got = transport.value()
    return (got + b"<closed>" if transport.disconnecting else got), closed_at


def codes(data: bytes) -> list[int]:
    out, i = [], 0
    while i + 3 <= len(data) and data[i:] != b"<closed>":
        out.append(data[i])
        i += struct.unpack(">H", data[i + 1:i + 3])[0]
    return out


CASES = {
    # PUT before Connect -> Service Unavailable (§5.1)
    "put-without-connect": (bytes([0x82, 0, 3]), [ResponseCode.SERVICE_UNAVAILABLE]),
    # an opcode OBEX does not define -> Bad Request, the session stays usable
    "unknown-opcode": (CONNECT + bytes([0x84, 0, 3]),
                       [ResponseCode.SUCCESS, ResponseCode.BAD_REQUEST]),
    # a header running past its packet -> Bad Request
    "malformed-header": (CONNECT + bytes([0x82, 0, 8, 0x42, 0x00, 0x50, 0x61, 0x62]),
                         [ResponseCode.SUCCESS, ResponseCode.BAD_REQUEST]),
    # a packet longer than the negotiated maximum (we offered 1024) -> error and close
    "over-max-length": (CONNECT + bytes([0x82]) + struct.pack(">H", 2000) + b"\x48" * 1997,
                        [ResponseCode.SUCCESS]),
    # a packet length below the 3-byte prefix -> error and close
    "short-length": (bytes([0x80, 0x00, 0x01]), []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gets_an_error_or_a_clean_close(engine: Any, case: str) -> None:
    data, expected = CASES[case]
    got, closed_at = on_clock(engine, data, server_config(max_packet_length=1024,
                                                          idle_timeout=2.0), wait=8.0)
    got_codes = codes(got)
    assert got_codes[:len(expected)] == expected, (case, got)
    if case in ("over-max-length", "short-length"):
        assert got.endswith(b"<closed>") and closed_at == 0.0     # at once
        assert got_codes[len(expected):] and got_codes[-1] >= 0xC0   # the error answer
    else:
        assert got.endswith(b"<closed>")          # by the idle timeout (2 s) at the latest
        assert closed_at == 2.0


def test_idle_link_is_closed(engine: Any) -> None:
    config = server_config(idle_timeout=1.0)
    assert on_clock(engine, b"", config, wait=10.0) == (b"<closed>", 1.0)
    half = on_clock(engine, CONNECT[:5], config, wait=10.0)     # half a packet
    assert half == (b"<closed>", 1.0)


@pytest.mark.interop
@pytest.mark.timeout(120)
@pytest_twisted.inlineCallbacks
def test_garbage_on_one_connection_does_not_disturb_another(obex_tcp: Any, store: Any) -> Any:
    """Real TCP on the real reactor: while one connection replays a whole capture session,
    eight others send garbage at the same time; the session completes and the garbage
    links get closed (by the idle timeout, here 1.5 s of real time)."""
    port, _ = obex_tcp(server_config(idle_timeout=1.5))

    def garbage(n: int) -> bytes:
        blob = bytes((n * 37 + i * 11) % 256 for i in range(300))
        return raw(port, blob, wait=5.0)

    from tests.obex_links.test_interop_pyobex import replay
    results = yield defer.gatherResults(
        [deferToThread(replay, port, store, "xml", ["md5-slow"])]
        + [deferToThread(garbage, n) for n in range(8)])
    assert all(r.endswith(b"<closed>") for r in results[1:])
    assert results[0][0] >= 2
    with store.transaction() as tx:
        assert len(list(tx.list_items("alice", "contacts"))) == 3
