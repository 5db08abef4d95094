"""PyOBEX 0.31 (a third-party OBEX client) against the gateway's OBEX server, over TCP and
over a serial pty pair; whole SyncEvolution sessions replayed through it."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from gateway.syncml.model import Alert
from tests.obex_links import helpers
from tests.obex_links.helpers import WBXML, XML, PyObexSession

pytestmark = pytest.mark.interop
CHAIN = ["md5-slow", "md5-twoway-changes"]


def replay(port: int, store: Any, enc: str, sessions: list[str]) -> list[int]:
    """Each capture session over its own OBEX connection; returns message counts."""
    ctype = WBXML if enc == "wbxml" else XML
    nonces = helpers.captured_nonces(enc)
    counts = []
    for name in sessions:
        client = PyObexSession(port)
        paths = helpers.client_messages(name, enc)
        assert paths
        for n, path in enumerate(paths):
            body = path.read_bytes()
            if n == 0:
                helpers.prime_nonce(store, body, ctype, nonces)
            got = client.exchange(body, ctype)
            assert isinstance(got, bytes), (name, n, got)
            reply = helpers.check_reply(got, body, ctype, n)
            if n == 0:
                alert = next(c for c in reply.commands if isinstance(c, Alert))
                assert alert.items[0].target.loc_uri == "./addressbook"
        client.close()
        counts.append(len(paths))
    return counts


def _contacts(store: Any) -> list[str]:
    with store.transaction() as tx:
        return sorted(bytes(i.data).decode() for i in tx.list_items("alice", "contacts"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("enc", ["xml", "wbxml"])
@pytest_twisted.inlineCallbacks
def test_syncevolution_sessions_over_obex_tcp(obex_tcp: Any, store: Any, enc: str) -> Any:
    port, factory = obex_tcp()
    counts = yield deferToThread(replay, port, store, enc, CHAIN)
    assert counts[0] >= 2
    data = _contacts(store)
    assert len(data) == 3                               # slow sync, then +1 -1 ~1
    assert any("+15559999999" in d for d in data)
    assert not any("Family000002" in d for d in data)


@pytest.mark.timeout(120)
@pytest_twisted.inlineCallbacks
def test_syncevolution_session_over_serial_pty(obex_serial: Any, store: Any) -> Any:
    """PyOBEX -> socat TCP bridge -> pty pair -> the gateway's serial listener."""
    pair, service = obex_serial

    def over_bridge() -> list[int]:
        counts = []
        for name in CHAIN:
            proc, port = helpers.serial_bridge(pair.theirs)
            try:
                counts += replay(port, store, "wbxml", [name])
            finally:
                helpers.stop(proc)
        return counts

    counts = yield deferToThread(over_bridge)
    assert len(counts) == 2
    data = _contacts(store)
    assert len(data) == 3 and any("+15559999999" in d for d in data)
    assert service.protocol is not None and service.protocol.messages == sum(counts)


@pytest.mark.timeout(60)
@pytest_twisted.inlineCallbacks
def test_pyobex_large_message_crosses_many_packets(obex_tcp: Any, run: Any) -> Any:
    """A 200 kB body through a 1 kB packet size both ways (PUT split, GET continued)."""
    from gateway.ds.server.handler import Response

    class Echo:
        def handle(self, request: Any) -> Response:
            return Response(body=request.body[::-1], content_type=request.content_type,
                            session="k")

    from tests.obex_links.conftest import server_config
    port, _ = obex_tcp(server_config(max_packet_length=1024), Echo())
    body = bytes(range(256)) * 800

    def go() -> Any:
        c = PyObexSession(port)
        got = c.exchange(body, XML)
        c.close()
        return got

    got = yield deferToThread(go)
    assert got == body[::-1]
