"""Bad input on real TCP connections: each gets an OBEX error response or a clean close
within a timeout, and a concurrent good session is not disturbed."""

from __future__ import annotations

import socket
import struct
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.threads import deferToThread

from gateway.obex import ResponseCode
from tests.obex_links.conftest import server_config

CONNECT = bytes([0x80]) + struct.pack(">H", 7 + 14) + bytes([0x10, 0, 0x04, 0x00]) \
    + bytes([0x46]) + struct.pack(">H", 14) + b"SYNCML-SYNC"


def raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``data``, read until the server closes or ``wait`` seconds pass."""
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


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(CASES))
@pytest_twisted.inlineCallbacks
def test_bad_input_gets_an_error_or_a_clean_close(obex_tcp: Any, case: str) -> Any:
    port, _ = obex_tcp(server_config(max_packet_length=1024, idle_timeout=2.0))
    data, expected = CASES[case]
    got = yield deferToThread(raw, port, data, wait=8.0)
    got_codes = codes(got)
    assert got_codes[:len(expected)] == expected, (case, got)
    if case in ("over-max-length", "short-length"):
        assert got.endswith(b"<closed>")
        assert got_codes[len(expected):] and got_codes[-1] >= 0xC0   # the error answer
    else:
        assert got.endswith(b"<closed>")          # by the idle timeout (2 s) at the latest


@pytest.mark.timeout(60)
@pytest_twisted.inlineCallbacks
def test_idle_link_is_closed(obex_tcp: Any) -> Any:
    port, _ = obex_tcp(server_config(idle_timeout=1.0))
    got = yield deferToThread(raw, port, b"", wait=10.0)
    assert got == b"<closed>"
    half = yield deferToThread(raw, port, CONNECT[:5], wait=10.0)   # half a packet
    assert half == b"<closed>"


@pytest.mark.timeout(120)
@pytest_twisted.inlineCallbacks
def test_garbage_on_one_connection_does_not_disturb_another(obex_tcp: Any, store: Any) -> Any:
    """Two concurrent connections: one replays a whole capture session, the other sends
    garbage in a loop; the session completes and the garbage links get closed."""
    port, _ = obex_tcp(server_config(idle_timeout=1.5))

    def garbage() -> list[bytes]:
        out = []
        for n in range(8):
            blob = bytes((n * 37 + i * 11) % 256 for i in range(300))
            out.append(raw(port, blob, wait=5.0))
        return out

    from tests.obex_links.test_interop_pyobex import replay
    results = yield defer.gatherResults([
        deferToThread(garbage), deferToThread(replay, port, store, "xml", ["md5-slow"])])
    assert all(r.endswith(b"<closed>") for r in results[0])
    assert results[1][0] >= 2
    with store.transaction() as tx:
        assert len(list(tx.list_items("alice", "contacts"))) == 3
