"""The HTTP binding: a twisted.web resource tree in front of the DS server engine.

``POST /sync`` carries one SyncML message (``application/vnd.syncml+xml`` or ``+wbxml``);
the reply is the engine's next message in the same encoding. The session key travels in
the query parameter ``s`` of the RespURI the engine hands out. ``GET /`` is a short page
for humans. Peer errors become HTTP 400/404/413/415 with a one-line log; anything
unexpected becomes a 500 without details to the peer. Bodies larger than the configured
limit are refused from the Content-Length header, before the body is read. An
``x-syncml-hmac`` header (auth-MAC, omads-protocol.md §4.1) is parsed here and handed to
the engine, which checks it against the exact body; our replies carry no such header.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable
from urllib.parse import quote

from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web import pages, server
from twisted.web.resource import Resource

from gateway import __version__
from gateway.ds.hmac import HEADER as HMAC_HEADER
from gateway.ds.hmac import read_header
from gateway.ds.server.handler import Request, Response
from gateway.errors import RemoteProtocolError
from gateway.transport.logs import get_logger
from gateway.transport.pool import SessionSerializer

__all__ = ["SyncResource", "RootResource", "SyncSite", "BoundedRequest", "make_site",
           "SYNCML_TYPES"]

log = get_logger("gateway.transport.http")

SYNCML_TYPES = ("application/vnd.syncml+xml", "application/vnd.syncml+wbxml")
SESSION_PARAM = b"s"

# Short texts for the HTTP answers a peer error gets (status hint -> status, text).
ERROR_ANSWERS: dict[int, tuple[int, bytes]] = {
    400: (400, b"Bad request: not a SyncML message this gateway can decode.\n"),
    404: (404, b"Unknown or expired session.\n"),
    413: (413, b"Message too large.\n"),
    415: (415, b"Unsupported media type: use application/vnd.syncml+xml or +wbxml.\n"),
}
INTERNAL_ERROR = b"Internal error; the gateway's log has the details.\n"

_HOST = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def _too_large_answer() -> bytes:
    body = ERROR_ANSWERS[413][1]
    return (b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
            + body)


class BoundedRequest(server.Request):
    """A request that refuses a body over ``site.max_message_size`` while receiving it:
    from the Content-Length header, or once a chunked body grows past the limit. The
    413 answer is written at once and the connection closed; the body is never stored."""

    refused = False
    _received = 0

    def _limit(self) -> int | None:
        # Request.site is only set in process(); the channel knows its site earlier.
        return getattr(getattr(self.channel, "site", None), "max_message_size", None)

    def _refuse(self, size: int | None) -> None:
        self.refused = True
        self.content = None
        # The channel would otherwise send "100 Continue" after gotLength returns.
        self.requestHeaders.removeHeader(b"expect")
        peer = _peer(self)
        log.info("refused a {size}-byte body from {peer} (limit {limit}): 413",
                 size=size if size is not None else "chunked", peer=peer,
                 limit=self._limit(), session=None, device=None)
        self.channel.transport.write(_too_large_answer())
        self.channel.loseConnection()

    def gotLength(self, length: int | None) -> None:
        limit = self._limit()
        if limit is not None and length is not None and length > limit:
            self._refuse(length)
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self._received += len(data)
        limit = self._limit()
        if limit is not None and self._received > limit:
            self._refuse(None)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.refused:
            return
        super().requestReceived(command, path, version)


class SyncSite(server.Site):
    """A Site whose requests enforce ``max_message_size``; never shows tracebacks."""

    requestFactory = BoundedRequest
    displayTracebacks = False

    def __init__(self, resource: Resource, *, max_message_size: int, reactor: Any):
        super().__init__(resource, reactor=reactor)
        self.max_message_size = max_message_size

    def log(self, request: Any) -> None:
        """Access logging is ours (one line per message); twisted.web's is off."""


def _peer(request: Any) -> str:
    addr = request.getClientAddress()
    host = getattr(addr, "host", None)
    return str(host) if host is not None else str(addr)


def _origin(request: Any) -> str:
    """scheme://host[:port] as the client reached us (a bad Host header is ignored)."""
    scheme = "https" if request.isSecure() else "http"
    raw = request.getHeader(b"host")
    host = raw.decode("latin-1") if raw else ""
    if not _HOST.match(host):
        addr = request.getHost()
        name = str(getattr(addr, "host", "localhost"))
        if ":" in name:
            name = f"[{name}]"
        port = getattr(addr, "port", None)
        default = 443 if scheme == "https" else 80
        host = name if port in (None, default) else f"{name}:{port}"
    return f"{scheme}://{host}"


class SyncResource(Resource):
    """``POST`` one SyncML message, get the next one back. Other methods get 405."""

    isLeaf = True

    def __init__(self, engine: Any, *, reactor: IReactorTime, serializer: SessionSerializer,
                 max_message_size: int, public_url: str | None = None):
        super().__init__()
        self._engine = engine
        self._reactor = reactor
        self._serializer = serializer
        self._max = max_message_size
        self._public_url = public_url

    def render(self, request: Any) -> Any:
        if request.method != b"POST":
            return _method_not_allowed(request, b"POST")
        return self.render_POST(request)

    def base_url(self, request: Any) -> str:
        if self._public_url:
            return self._public_url
        path = quote(request.path.decode("latin-1"), safe="/%-._~!$&'()*+,;=:@")
        return _origin(request) + path

    def render_POST(self, request: Any) -> Any:
        peer = _peer(request)
        content_type = (request.getHeader(b"content-type") or b"").decode("latin-1")
        base = content_type.split(";", 1)[0].strip().lower()
        if base not in SYNCML_TYPES:
            return self._answer_error(request, 415, peer, None, f"content type {base!r}")
        raw_key = request.args.get(SESSION_PARAM)
        session: str | None = None
        if raw_key is not None:
            try:
                session = raw_key[0].decode("ascii")
            except UnicodeDecodeError:
                return self._answer_error(request, 404, peer, None, "non-ASCII session key")
            if not session:
                return self._answer_error(request, 404, peer, None, "empty session key")
        if getattr(request, "refused", False) or request.content is None:
            return self._answer_error(request, 413, peer, session, "body over the limit")
        request.content.seek(0)
        body = request.content.read(self._max + 1)
        if len(body) > self._max:
            return self._answer_error(request, 413, peer, session,
                                      f"body over {self._max} bytes")
        if not body:
            return self._answer_error(request, 400, peer, session, "empty body")
        mac = read_header(request.requestHeaders.getRawHeaders(HMAC_HEADER.encode("ascii")))
        message = Request(body=body, content_type=content_type, session=session,
                          base_url=self.base_url(request), peer=peer,
                          now=self._reactor.seconds(), hmac=mac)
        gone: list[Failure] = []
        request.notifyFinish().addErrback(gone.append)
        d = self._serializer.run(session, self._engine.handle, message)
        d.addCallback(self._answer, request, gone, peer, session)
        d.addErrback(self._failed, request, gone, peer, session)
        d.addErrback(lambda f: log.failure("answering {peer} (session {session}) failed",
                                           f, peer=peer, session=session, device=None))
        return server.NOT_DONE_YET

    def _answer(self, response: Response, request: Any, gone: list[Failure], peer: str,
                session: str | None) -> None:
        log.debug("{peer} session {session} -> 200, {size} bytes, next session {next}",
                  peer=peer, session=session, size=len(response.body),
                  next=response.session, device=None)
        if gone:
            log.info("{peer} went away before the reply of session {session} was sent",
                     peer=peer, session=session, device=None)
            return
        request.setResponseCode(200)
        request.setHeader(b"content-type", response.content_type.encode("latin-1"))
        request.setHeader(b"content-length", str(len(response.body)).encode("ascii"))
        request.setHeader(b"cache-control", b"no-store")
        request.write(response.body)
        request.finish()

    def _failed(self, failure: Failure, request: Any, gone: list[Failure], peer: str,
                session: str | None) -> None:
        exc = failure.value
        device = getattr(exc, "device", None)
        if isinstance(exc, RemoteProtocolError):
            hint = exc.error_status_hint if exc.error_status_hint in ERROR_ANSWERS else 400
            log.info("{peer} session {session} device {device}: {error} -> {status}",
                     peer=peer, session=session, device=device, error=str(exc), status=hint)
            code, text = ERROR_ANSWERS[hint]
        else:
            log.failure("engine failed on a message from {peer}, session {session}, "
                        "device {device}", failure, peer=peer, session=session,
                        device=device)
            code, text = 500, INTERNAL_ERROR
        if not gone:
            _write_text(request, code, text)
            request.finish()

    def _answer_error(self, request: Any, hint: int, peer: str, session: str | None,
                      why: str) -> bytes:
        code, text = ERROR_ANSWERS[hint]
        log.info("{peer} session {session} device {device}: {error} -> {status}",
                 peer=peer, session=session, device=None, error=why, status=code)
        _write_text(request, code, None)
        if hint == 413:
            request.setHeader(b"connection", b"close")
        return text


def _write_text(request: Any, code: int, body: bytes | None) -> None:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    if body is not None:
        request.setHeader(b"content-length", str(len(body)).encode("ascii"))
        request.write(body)


def _method_not_allowed(request: Any, allow: bytes) -> bytes:
    body = b"Method not allowed; use " + allow + b".\n"
    _write_text(request, 405, None)
    request.setHeader(b"allow", allow)
    return body


class RootResource(Resource):
    """``GET /``: a page saying the gateway runs and where to point a phone."""

    def __init__(self, *, sync_path: str, datastores: Iterable[Any],
                 public_url: str | None = None, version: str = __version__):
        super().__init__()
        self._sync_path = sync_path
        self._datastores = tuple(datastores)
        self._public_url = public_url
        self._version = version

    def getChild(self, path: bytes, request: Any) -> Resource:
        if path == b"":
            return self
        return pages.notFound()

    def render(self, request: Any) -> Any:
        if request.method not in (b"GET", b"HEAD"):
            return _method_not_allowed(request, b"GET, HEAD")
        return self.render_GET(request)

    def render_GET(self, request: Any) -> bytes:
        url = self._public_url or (_origin(request) + self._sync_path)
        rows = "".join(
            f"<li><b>{html.escape(ds.name)}</b>"
            + (f" (also: {html.escape(', '.join(ds.aliases))})" if ds.aliases else "")
            + "</li>"
            for ds in self._datastores)
        page = (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>omads-gateway {html.escape(self._version)}</title></head><body>\n"
            f"<h1>omads-gateway {html.escape(self._version)}</h1>\n"
            "<p>This OMA DS (SyncML) gateway is running.</p>\n"
            f"<p>Point your phone's sync server URL at <code>{html.escape(url)}</code></p>\n"
            f"<p>Datastores (the remote database names a phone may use):</p>\n<ul>{rows}</ul>\n"
            "</body></html>\n")
        data = page.encode("utf-8")
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return data


def make_site(engine: Any, *, reactor: Any, serializer: SessionSerializer,
              max_message_size: int, datastores: Iterable[Any],
              public_url: str | None = None) -> SyncSite:
    """The resource tree (``/`` and ``/sync``) in a Site enforcing the size limit."""
    root = RootResource(sync_path="/sync", datastores=datastores, public_url=public_url)
    root.putChild(b"sync", SyncResource(engine, reactor=reactor, serializer=serializer,
                                        max_message_size=max_message_size,
                                        public_url=public_url))
    return SyncSite(root, max_message_size=max_message_size, reactor=reactor)
