"""The HTTP binding (gateway.transport.http) with a fake engine.

Most tests drive a real ``HTTPChannel`` from ``SyncSite.buildProtocol`` over a
``StringTransport`` with a ``MemoryReactorClock``; a few run on a real port on 127.0.0.1
with the real thread pool.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, protocol
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.threadpool import ThreadPool
from twisted.web.client import Agent, ResponseDone
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from gateway import __version__
from gateway.ds.server.handler import Request, Response
from gateway.ds.settings import DEFAULT_DATASTORES, DatastoreSettings
from gateway.syncml.errors import LocalProtocolError, RemoteProtocolError
from gateway.transport.http import make_site
from gateway.transport.pool import SessionSerializer, thread_runner

XML = "application/vnd.syncml+xml"
WBXML = "application/vnd.syncml+wbxml"
LIMIT = 4096
PEER = IPv4Address("TCP", "10.0.0.7", 40000)
HOST = IPv4Address("TCP", "127.0.0.1", 8080)


class FakeEngine:
    """Answers ``reply:<body>`` in the request's encoding, or raises ``error``."""

    def __init__(self, *, error: Exception | None = None, session: str | None = "k1",
                 reply: Any = None):
        self.requests: list[Request] = []
        self.error = error
        self.session = session
        self.reply = reply

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        if self.reply is not None:
            return self.reply
        return Response(body=b"reply:" + request.body,
                        content_type=request.content_type.split(";")[0].strip(),
                        session=self.session)


def run_now(fn: Any, *args: Any) -> Deferred[Any]:
    return maybeDeferred(fn, *args)


class ManualRunner:
    """Holds every call until the test completes it."""

    def __init__(self) -> None:
        self.pending: list[tuple[Any, tuple[Any, ...], Deferred[Any]]] = []

    def __call__(self, fn: Any, *args: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.pending.append((fn, args, d))
        return d

    def complete(self, index: int = 0) -> None:
        fn, args, d = self.pending.pop(index)
        maybeDeferred(fn, *args).chainDeferred(d)


def build(engine: Any = None, *, runner: Any = run_now, public_url: str | None = None,
          datastores: Any = DEFAULT_DATASTORES) -> tuple[Any, MemoryReactorClock, SessionSerializer]:
    reactor = MemoryReactorClock()
    reactor.advance(1_700_000_000)
    serializer = SessionSerializer(runner)
    site = make_site(engine if engine is not None else FakeEngine(), reactor=reactor,
                     serializer=serializer, max_message_size=LIMIT, datastores=datastores,
                     public_url=public_url)
    return site, reactor, serializer


def connect(site: Any) -> tuple[Any, StringTransport]:
    channel = site.buildProtocol(PEER)
    transport = StringTransport(hostAddress=HOST, peerAddress=PEER)
    channel.makeConnection(transport)
    return channel, transport


def http_request(method: str = "POST", path: str = "/sync", body: bytes = b"<SyncML/>",
                 content_type: str | None = XML, host: str | None = "gw.example:8080",
                 headers: dict[str, str] | None = None, length: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length and method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body if length else b"")


def parse_response(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        rest = rest[:int(headers["content-length"])]
    return int(status_line.split()[1]), headers, rest


def roundtrip(site: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    channel, transport = connect(site)
    channel.dataReceived(raw)
    return parse_response(transport.value())


# -- POST /sync --------------------------------------------------------------------------

def test_post_xml_gets_engine_reply_with_headers() -> None:
    """A SyncML XML message is handed to the engine and its reply sent back as 200."""
    engine = FakeEngine()
    site, reactor, _ = build(engine)
    status, headers, body = roundtrip(site, http_request(body=b"<SyncML>1</SyncML>"))
    assert status == 200
    assert body == b"reply:<SyncML>1</SyncML>"
    assert headers["content-type"] == XML
    assert headers["content-length"] == str(len(body))
    assert headers["cache-control"] == "no-store"
    [req] = engine.requests
    assert req == Request(body=b"<SyncML>1</SyncML>", content_type=XML, session=None,
                          base_url="http://gw.example:8080/sync", peer="10.0.0.7",
                          now=reactor.seconds())


def test_wbxml_with_parameters_is_accepted_and_answered_as_wbxml() -> None:
    """Parameters such as charset are ignored when matching; the engine sees the header."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    ctype = "application/vnd.syncml+wbxml; charset=UTF-8"
    status, headers, body = roundtrip(site, http_request(body=b"\x02\x00\x00", content_type=ctype))
    assert status == 200
    assert headers["content-type"] == WBXML
    assert body == b"reply:\x02\x00\x00"
    assert engine.requests[0].content_type == ctype


def test_upper_case_media_type_is_accepted() -> None:
    """Media types compare case-insensitively."""
    site, _, _ = build()
    status, _, _ = roundtrip(site, http_request(content_type="Application/VND.SyncML+XML"))
    assert status == 200


def test_session_key_comes_from_query_parameter_s() -> None:
    """``?s=KEY`` becomes Request.session; base_url carries no query."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    status, _, _ = roundtrip(site, http_request(path="/sync?s=abc123"))
    assert status == 200
    assert engine.requests[0].session == "abc123"
    assert engine.requests[0].base_url == "http://gw.example:8080/sync"


def test_base_url_without_host_header_uses_local_address() -> None:
    """Without a (valid) Host header the URL is built from the address we were reached on."""
    for host in (None, "evil host/<x>"):
        engine = FakeEngine()
        site, _, _ = build(engine)
        raw = http_request(host=host).replace(b"HTTP/1.1", b"HTTP/1.0", 1) if host is None \
            else http_request(host=host)
        status, _, _ = roundtrip(site, raw)
        assert status == 200
        assert engine.requests[0].base_url == "http://127.0.0.1:8080/sync"


def test_base_url_keeps_path_of_trailing_slash_url() -> None:
    """A phone configured with /sync/ gets RespURIs on /sync/."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    assert roundtrip(site, http_request(path="/sync/"))[0] == 200
    assert engine.requests[0].base_url == "http://gw.example:8080/sync/"


def test_public_url_overrides_host() -> None:
    """A configured public URL (reverse proxy) is the base URL."""
    engine = FakeEngine()
    site, _, _ = build(engine, public_url="https://sync.example.org/omads")
    roundtrip(site, http_request())
    assert engine.requests[0].base_url == "https://sync.example.org/omads"


def test_other_content_type_is_415_without_engine_call() -> None:
    """Anything but the two SyncML media types is refused with 415."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    for ctype in ("text/plain", None, "application/vnd.syncml.ds.notification"):
        status, headers, body = roundtrip(site, http_request(content_type=ctype))
        assert status == 415
        assert headers["content-type"].startswith("text/plain")
        assert b"media type" in body
    assert engine.requests == []


def test_other_methods_on_sync_are_405_with_allow() -> None:
    """GET, PUT, DELETE on /sync get 405 naming POST."""
    site, _, _ = build()
    for method in ("GET", "PUT", "DELETE"):
        status, headers, _ = roundtrip(site, http_request(method=method, content_type=None))
        assert status == 405
        assert "POST" in headers["allow"]


def test_declared_length_over_limit_is_413_before_the_body() -> None:
    """A Content-Length over the limit is answered at once; the connection closes."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    channel, transport = connect(site)
    head = (f"POST /sync HTTP/1.1\r\nHost: h\r\nContent-Type: {XML}\r\n"
            f"Content-Length: {LIMIT + 1}\r\nExpect: 100-continue\r\n\r\n").encode()
    channel.dataReceived(head)            # no body byte sent yet
    status, headers, body = parse_response(transport.value())
    assert status == 413
    assert headers["connection"] == "close"
    assert b"100 Continue" not in transport.value()
    assert transport.disconnecting
    channel.dataReceived(b"x" * (LIMIT + 1))   # late body bytes are ignored
    assert engine.requests == []


def test_chunked_body_over_limit_is_413() -> None:
    """A chunked body is refused as soon as it grows past the limit."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    channel, transport = connect(site)
    channel.dataReceived((f"POST /sync HTTP/1.1\r\nHost: h\r\nContent-Type: {XML}\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b"y" * 1000
    for _ in range(5):
        channel.dataReceived(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    channel.dataReceived(b"0\r\n\r\n")
    assert parse_response(transport.value())[0] == 413
    assert transport.disconnecting
    assert engine.requests == []


def test_chunked_body_within_limit_is_served() -> None:
    """A chunked body under the limit reaches the engine whole."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    channel, transport = connect(site)
    channel.dataReceived((f"POST /sync HTTP/1.1\r\nHost: h\r\nContent-Type: {XML}\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").encode())
    status, _, body = parse_response(transport.value())
    assert status == 200 and body == b"reply:hello"


def test_body_exactly_at_limit_is_served() -> None:
    """The limit itself is allowed."""
    site, _, _ = build()
    status, _, body = roundtrip(site, http_request(body=b"z" * LIMIT))
    assert status == 200 and len(body) == len(b"reply:") + LIMIT


def test_empty_body_is_400() -> None:
    """An empty POST never reaches the engine."""
    engine = FakeEngine()
    site, _, _ = build(engine)
    assert roundtrip(site, http_request(body=b""))[0] == 400
    assert engine.requests == []


@pytest.mark.parametrize("hint", [400, 404, 413, 415])
def test_engine_remote_errors_map_to_their_status(hint: int) -> None:
    """RemoteProtocolError's status hint becomes the HTTP status, with a short text."""
    site, _, _ = build(FakeEngine(error=RemoteProtocolError("nope", error_status_hint=hint)))
    with capturedLogs() as events:
        status, headers, body = roundtrip(site, http_request(path="/sync?s=zz"))
    assert status == hint
    assert headers["content-type"].startswith("text/plain")
    assert 0 < len(body) < 200
    [event] = [e for e in events if e.get("status") == hint]
    assert event["session"] == "zz" and event["peer"] == "10.0.0.7" and "device" in event


def test_unlisted_remote_hint_is_400() -> None:
    """A peer error with an unusual hint is still the peer's fault: 400."""
    site, _, _ = build(FakeEngine(error=RemoteProtocolError("odd", error_status_hint=409)))
    assert roundtrip(site, http_request())[0] == 400


@pytest.mark.parametrize("error", [RuntimeError("secret detail"),
                                   LocalProtocolError("our bug: secret detail")])
def test_unexpected_engine_error_is_500_without_details(error: Exception) -> None:
    """Our own failures give a 500 with no traceback or message, and one logged failure."""
    site, _, _ = build(FakeEngine(error=error))
    with capturedLogs() as events:
        status, _, body = roundtrip(site, http_request(path="/sync?s=k9"))
    assert status == 500
    assert b"secret" not in body and b"Traceback" not in body
    failures = [e for e in events if "log_failure" in e]
    assert len(failures) == 1
    assert failures[0]["session"] == "k9" and failures[0]["peer"] == "10.0.0.7"
    assert failures[0]["log_level"] == LogLevel.critical


def test_engine_returning_garbage_is_500() -> None:
    """A broken reply object is contained as a 500 too."""
    site, _, _ = build(FakeEngine(reply=object()))
    with capturedLogs():
        assert roundtrip(site, http_request())[0] == 500


def test_reply_is_dropped_when_client_went_away() -> None:
    """A client that disconnects mid-message gets nothing written; the engine still runs."""
    runner = ManualRunner()
    engine = FakeEngine()
    site, _, serializer = build(engine, runner=runner)
    channel, transport = connect(site)
    channel.dataReceived(http_request(path="/sync?s=a"))
    channel.connectionLost(Exception("gone"))
    transport.clear()
    with capturedLogs() as events:
        runner.complete()
    assert transport.value() == b""
    assert len(engine.requests) == 1
    assert any("went away" in e.get("log_format", "") for e in events)
    assert len(serializer) == 0


# -- one message at a time per session ------------------------------------------------------

def test_messages_of_one_session_run_one_at_a_time() -> None:
    """A second message of a session waits until the first one is done."""
    runner = ManualRunner()
    engine = FakeEngine()
    site, _, serializer = build(engine, runner=runner)
    c1, t1 = connect(site)
    c2, t2 = connect(site)
    c1.dataReceived(http_request(path="/sync?s=same", body=b"first"))
    c2.dataReceived(http_request(path="/sync?s=same", body=b"second"))
    assert len(runner.pending) == 1
    runner.complete()
    assert parse_response(t1.value())[2] == b"reply:first"
    assert t2.value() == b""
    assert len(runner.pending) == 1
    runner.complete()
    assert parse_response(t2.value())[2] == b"reply:second"
    assert [r.body for r in engine.requests] == [b"first", b"second"]
    assert len(serializer) == 0


def test_different_sessions_and_first_messages_run_concurrently() -> None:
    """Different session keys, and messages without a key, do not wait for each other."""
    runner = ManualRunner()
    site, _, serializer = build(runner=runner)
    for path in ("/sync?s=a", "/sync?s=b", "/sync", "/sync"):
        channel, _ = connect(site)
        channel.dataReceived(http_request(path=path))
    assert len(runner.pending) == 4
    assert len(serializer) == 2
    while runner.pending:
        runner.complete()
    assert len(serializer) == 0


def test_failed_message_releases_the_session() -> None:
    """After an engine error the next message of the session runs."""
    runner = ManualRunner()
    engine = FakeEngine(error=RemoteProtocolError("bad", error_status_hint=400))
    site, _, serializer = build(engine, runner=runner)
    c1, t1 = connect(site)
    c2, t2 = connect(site)
    c1.dataReceived(http_request(path="/sync?s=x"))
    c2.dataReceived(http_request(path="/sync?s=x"))
    with capturedLogs():
        runner.complete()
    engine.error = None
    runner.complete()
    assert parse_response(t1.value())[0] == 400
    assert parse_response(t2.value())[0] == 200
    assert len(serializer) == 0


# -- GET / ---------------------------------------------------------------------------------

def test_root_page_names_version_url_and_datastores() -> None:
    """GET / says the gateway runs, its version, the sync URL and the datastores."""
    stores = (*DEFAULT_DATASTORES,
              DatastoreSettings(name="<b>odd</b>", content_types=(("text/plain", "1.0"),)))
    site, _, _ = build(datastores=stores)
    status, headers, body = roundtrip(site, http_request(method="GET", path="/",
                                                         content_type=None))
    page = body.decode()
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert __version__ in page
    assert "http://gw.example:8080/sync" in page
    for name in ("contacts", "calendar", "tasks", "notes", "addressbook"):
        assert name in page
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd</b>" not in page


def test_unknown_path_is_404() -> None:
    """Paths other than / and /sync do not exist."""
    site, _, _ = build()
    assert roundtrip(site, http_request(method="GET", path="/admin", content_type=None))[0] == 404


# -- a real port on 127.0.0.1 with the real thread pool ---------------------------------------

@implementer(IBodyProducer)
class _Bytes:
    def __init__(self, data: bytes):
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer: Any) -> Deferred[None]:
        consumer.write(self.data)
        return defer.succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


class CountingEngine(FakeEngine):
    """Records how many calls of one session overlapped (it lingers a little in each)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
        time.sleep(0.01)   # widens any overlap; asserted on overlap, never on time
        with self.lock:
            self.running -= 1
        return super().handle(request)


@pytest.fixture
def live_site() -> Any:
    from twisted.internet import reactor
    pool = ThreadPool(minthreads=0, maxthreads=4, name="test-engine")
    pool.start()
    engine = CountingEngine()
    site = make_site(engine, reactor=reactor,
                     serializer=SessionSerializer(thread_runner(reactor, pool)),
                     max_message_size=LIMIT, datastores=DEFAULT_DATASTORES)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield reactor, port.getHost().port, engine
    pytest_twisted.blockon(port.stopListening())
    pool.stop()


class _Collect(protocol.Protocol):
    def __init__(self, done: Deferred[bytes]):
        self.done = done
        self.data = b""

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Any) -> None:
        if reason.check(ResponseDone):
            self.done.callback(self.data)
        else:
            self.done.errback(reason)


def readBody(response: Any) -> Deferred[bytes]:
    done: Deferred[bytes] = Deferred()
    response.deliverBody(_Collect(done))
    return done


def _with_timeout(d: Deferred[Any], reactor: Any, seconds: float = 10) -> Deferred[Any]:
    return d.addTimeout(seconds, reactor)


@pytest_twisted.inlineCallbacks
def test_live_post_and_get(live_site: Any) -> Any:
    """Over real TCP: POST /sync gets the engine's reply, GET / the page."""
    reactor, port, engine = live_site
    agent = Agent(reactor)
    url = f"http://127.0.0.1:{port}/sync".encode()
    response = yield _with_timeout(agent.request(
        b"POST", url, Headers({b"content-type": [XML.encode()]}), _Bytes(b"<SyncML/>")), reactor)
    body = yield _with_timeout(readBody(response), reactor)
    assert response.code == 200 and body == b"reply:<SyncML/>"
    assert engine.requests[0].base_url == f"http://127.0.0.1:{port}/sync"
    response = yield _with_timeout(agent.request(b"GET", f"http://127.0.0.1:{port}/".encode()),
                                   reactor)
    page = yield _with_timeout(readBody(response), reactor)
    assert response.code == 200 and f"127.0.0.1:{port}/sync".encode() in page


@pytest_twisted.inlineCallbacks
def test_live_same_session_never_overlaps(live_site: Any) -> Any:
    """Concurrent messages of one session run one at a time in the thread pool."""
    reactor, port, engine = live_site
    agent = Agent(reactor)
    url = f"http://127.0.0.1:{port}/sync?s=one".encode()
    calls = [agent.request(b"POST", url, Headers({b"content-type": [XML.encode()]}),
                           _Bytes(b"m%d" % i)) for i in range(6)]
    responses = yield _with_timeout(defer.gatherResults(calls), reactor)
    bodies = yield _with_timeout(defer.gatherResults([readBody(r) for r in responses]), reactor)
    assert sorted(bodies) == [b"reply:m%d" % i for i in range(6)]
    assert engine.max_running == 1


class _RawClient(protocol.Protocol):
    def __init__(self, data: bytes):
        self.data = data
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.data)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any) -> None:
        self.done.callback(self.received)


@pytest_twisted.inlineCallbacks
def test_live_oversized_declared_length_is_refused_before_body(live_site: Any) -> Any:
    """The server answers 413 and closes while the client has sent only the headers."""
    reactor, port, engine = live_site
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
    client = _RawClient((f"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: {XML}\r\n"
                         f"Content-Length: {100 * LIMIT}\r\n\r\n").encode())
    yield _with_timeout(connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client),
                        reactor)
    data = yield _with_timeout(client.done, reactor)
    assert parse_response(data)[0] == 413
    assert engine.requests == []
