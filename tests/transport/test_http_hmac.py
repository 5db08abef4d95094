"""The HTTP binding hands the parsed x-syncml-hmac header to the engine (auth-MAC, §4.1)."""

from __future__ import annotations

from gateway.ds.hmac import HmacHeader
from gateway.ds.server.handler import SyncServer
from gateway.ds.settings import ServerSettings
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.syncml import codec
from gateway.syncml.model import Status
from gateway.store.memory import FakeStore
from tests.transport.test_http import XML, FakeEngine, build, http_request, roundtrip


def test_header_is_parsed_into_the_request() -> None:
    engine = FakeEngine()
    site, _, _ = build(engine)
    raw = http_request(headers={"X-SyncML-HMAC": 'algorithm=MD5, username="alice", mac=AbC/+=='})
    status, headers, _ = roundtrip(site, raw)
    assert status == 200
    assert engine.requests[0].hmac == HmacHeader(username="alice", mac="AbC/+==")
    assert "x-syncml-hmac" not in headers            # our replies are not signed


def test_no_header_means_none() -> None:
    engine = FakeEngine()
    site, _, _ = build(engine)
    assert roundtrip(site, http_request())[0] == 200
    assert engine.requests[0].hmac is None


def test_bad_or_repeated_header_reaches_the_engine_as_an_error() -> None:
    for extra in ('x-syncml-hmac: username="alice\r\n',
                  "x-syncml-hmac: username=a, mac=b\r\nx-syncml-hmac: username=a, mac=b\r\n"):
        engine = FakeEngine()
        site, _, _ = build(engine)
        raw = http_request().replace(b"\r\n\r\n", b"\r\n" + extra.encode() + b"\r\n", 1)
        status, _, _ = roundtrip(site, raw)
        assert status == 200                         # the engine answers 401, not HTTP
        assert engine.requests[0].hmac is not None and engine.requests[0].hmac.error


def test_real_engine_refuses_a_garbage_header_with_401() -> None:
    store = FakeStore()
    with store.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    engine = SyncServer(ServerSettings(auth_types=("syncml:auth-MAC",)), store)
    site, _, _ = build(engine)
    body = (b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
            b"<VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
            b"<Target><LocURI>http://gw/sync</LocURI></Target><Source><LocURI>dev1</LocURI>"
            b"<LocName>alice</LocName></Source></SyncHdr><SyncBody><Final/></SyncBody>"
            b"</SyncML>")
    raw = http_request(body=body, headers={"x-syncml-hmac": "\x01garbage"})
    status, headers, reply = roundtrip(site, raw)
    assert status == 200 and headers["content-type"] == XML
    msg = codec.decode_message(reply, codec.XML)
    st = next(c for c in msg.commands if isinstance(c, Status) and c.cmd == "SyncHdr")
    assert st.data == 401 and st.chal.meta.type == "syncml:auth-MAC"
