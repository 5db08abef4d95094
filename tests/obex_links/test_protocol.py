"""ObexSyncProtocol on a StringTransport with a MemoryReactorClock: engine errors become
OBEX error answers, the session key stays on the link, idle links close, serial links
start a fresh session after Disconnect."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import fail, succeed
from twisted.internet.testing import MemoryReactorClock, StringTransport

from gateway.ds.server.handler import Request, Response
from gateway.obex import ClientConfig, ObexClient, ResponseCode, ServerConfig
from gateway.obex.events import (ConnectRequest, Connected, Disconnect, GetRequest, PutRequest,
                                 Response as ObexResponse)
from gateway.obex.constants import TARGET_SYNCML_SYNC
from gateway.syncml.errors import RemoteProtocolError
from gateway.transport.obex.protocol import ObexSyncProtocol

XML = "application/vnd.syncml+xml"
CONNECT = ConnectRequest(target=TARGET_SYNCML_SYNC)


class Engine:
    def __init__(self, error: Exception | None = None):
        self.requests: list[Request] = []
        self.error = error

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return Response(body=b"reply-%d" % len(self.requests), content_type=XML,
                        session="key-1")


def run_now(fn: Any, *args: Any) -> Any:
    try:
        return succeed(fn(*args))
    except Exception as e:
        return fail(e)


def setup(engine: Engine, **kw: Any) -> tuple[ObexSyncProtocol, StringTransport, ObexClient,
                                               MemoryReactorClock]:
    reactor = MemoryReactorClock()
    proto = ObexSyncProtocol(engine=engine, run=run_now, reactor=reactor,
                             config=ServerConfig(idle_timeout=30.0), base_url="obex://t",
                             link="test", **kw)
    transport = StringTransport()
    proto.makeConnection(transport)
    client = ObexClient(ClientConfig(), now=0.0)
    return proto, transport, client, reactor


def talk(proto: ObexSyncProtocol, transport: StringTransport, client: ObexClient,
         request: Any) -> list:
    """The client core sends ``request``; the protocol's answer goes back to it."""
    proto.dataReceived(client.send(request, 0.0))
    out = transport.value()
    transport.clear()
    client.receive_data(out, 0.0)
    return list(client.events())


def test_session_key_stays_on_the_link() -> None:
    engine = Engine()
    proto, transport, client, _ = setup(engine)
    assert isinstance(talk(proto, transport, client,
                           CONNECT)[0], Connected)
    for n in (1, 2):
        assert talk(proto, transport, client, PutRequest(type=XML, body=b"msg"))[0].ok
        got = talk(proto, transport, client, GetRequest(type=XML))[0]
        assert got.body == b"reply-%d" % n
    assert [r.session for r in engine.requests] == [None, "key-1"]
    assert all(r.base_url == "obex://t" for r in engine.requests)


def test_peer_error_answers_the_get_and_closes() -> None:
    engine = Engine(RemoteProtocolError("bad message", error_status_hint=400))
    proto, transport, client, _ = setup(engine)
    talk(proto, transport, client, CONNECT)
    assert talk(proto, transport, client, PutRequest(type=XML, body=b"junk"))[0].ok
    got = talk(proto, transport, client, GetRequest(type=XML))[0]
    assert isinstance(got, ObexResponse) and got.code == ResponseCode.BAD_REQUEST
    assert transport.disconnecting


def test_engine_bug_is_internal_server_error() -> None:
    engine = Engine(KeyError("bug"))
    proto, transport, client, _ = setup(engine)
    talk(proto, transport, client, CONNECT)
    talk(proto, transport, client, PutRequest(type=XML, body=b"m"))
    got = talk(proto, transport, client, GetRequest(type=XML))[0]
    assert got.code == ResponseCode.INTERNAL_SERVER_ERROR


def test_idle_timeout_closes_the_link() -> None:
    proto, transport, client, reactor = setup(Engine())
    reactor.advance(29)
    assert not transport.disconnecting
    reactor.advance(2)
    assert transport.disconnecting


def test_serial_link_accepts_at_preamble_and_starts_over_after_disconnect() -> None:
    engine = Engine()
    proto, transport, client, _ = setup(engine, at_preamble=True, reusable=True)
    proto.dataReceived(b"ATZ\r")
    assert b"OK" in transport.value()
    transport.clear()
    proto.dataReceived(b"AT+CPROT=0\r")
    assert b"CONNECT" in transport.value()
    transport.clear()
    assert isinstance(talk(proto, transport, client, CONNECT)[0], Connected)
    talk(proto, transport, client, Disconnect())
    assert not transport.disconnecting            # the port stays open ...
    proto.dataReceived(b"AT\r")                   # ... in AT mode again
    assert b"OK" in transport.value()


def test_reply_after_the_peer_left_is_dropped() -> None:
    from twisted.internet.defer import Deferred
    pending: list[Deferred] = []
    proto, transport, client, _ = setup(Engine())
    proto.run = lambda fn, *a: pending.append(Deferred()) or pending[-1]
    talk(proto, transport, client, CONNECT)
    talk(proto, transport, client, PutRequest(type=XML, body=b"m"))
    proto.connectionLost(None)
    pending[0].callback(Response(body=b"late", content_type=XML, session="k"))
    assert b"late" not in transport.value()
