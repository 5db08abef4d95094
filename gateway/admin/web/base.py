"""What every admin page does: require a login, check the CSRF token of every POST, run
its blocking work on the thread pool, and answer with a page or a redirect.

A ``Page`` subclass implements ``get(request, session)`` -> a Deferred or value of the
page body (tags), and ``post(request, session)`` -> the path to redirect to (303 See
Other, the POST/redirect/GET pattern); messages for the next page go into the session's
flash. Answers carry a strict Content-Security-Policy (nothing but this origin's
stylesheet), ``no-store`` and ``nosniff``; errors show a short page, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.web import server
from twisted.web.resource import Resource
from twisted.web.template import flattenString, tags

from gateway.admin.web.layout import page
from gateway.admin.web.websession import WebSession, WebSessions
from gateway.transport.logs import get_logger

__all__ = ["AdminContext", "Page", "PageError", "arg", "secure_headers", "send_page"]

log = get_logger("gateway.admin.web")
MAX_FIELD = 4096


class PageError(Exception):
    """A request the page refuses: ``code`` and the text shown."""

    def __init__(self, text: str, code: int = 400):
        super().__init__(text)
        self.code = code


@dataclass
class AdminContext:
    """What the pages work with. ``run(fn, *args)`` runs blocking store work on the
    thread pool; ``ops``: the history (None when the store keeps none); ``notify``: the
    notification service (None when disabled); ``snapshot``: the latest background
    counts; ``listeners``: (name, endpoint) of this node's listeners."""

    store: Any
    ops: Any
    run: Callable[..., Deferred]
    reactor: Any
    settings: Any
    sessions: WebSessions
    notify: Any = None
    snapshot: dict = field(default_factory=dict)
    listeners: Callable[[], list] = lambda: []   # (name, endpoint, state)
    node: str = ""
    modem: Callable[[], str] | None = None
    failed_logins: dict = field(default_factory=dict)


def arg(request: Any, name: str) -> str:
    """A form or query value as text ("" if absent), bounded in length."""
    values = request.args.get(name.encode("ascii"))
    if not values:
        return ""
    return values[0][:MAX_FIELD].decode("utf-8", "replace").strip()


def secure_headers(request: Any) -> None:
    request.setHeader(b"content-security-policy",
                      b"default-src 'none'; style-src 'self'; img-src 'self'; "
                      b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"no-referrer")
    request.setHeader(b"x-frame-options", b"DENY")
    request.setHeader(b"cache-control", b"no-store")


def send_page(request: Any, title: str, body: Any, session: WebSession | None, *,
              code: int = 200) -> Deferred:
    """Flatten the page and finish the request."""
    flash = list(session.flash) if session is not None else []
    if session is not None:
        session.flash.clear()
    tree = page(title, body, user=session.user if session else None,
                csrf=session.csrf if session else None,
                here=request.path.decode("latin-1"), flash=flash)
    d = flattenString(None, tree)

    def write(data: bytes) -> None:
        if request.finished or getattr(request, "_disconnected", False):
            return
        request.setResponseCode(code)
        secure_headers(request)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.write(b"<!DOCTYPE html>\n" + data)
        request.finish()

    return d.addCallback(write)


def redirect(request: Any, location: str) -> None:
    if request.finished or getattr(request, "_disconnected", False):
        return
    request.setResponseCode(303)
    secure_headers(request)
    request.setHeader(b"location", location.encode("ascii"))
    request.finish()


class Page(Resource):
    isLeaf = True
    title = ""

    def __init__(self, ctx: AdminContext):
        super().__init__()
        self.ctx = ctx

    def get(self, request: Any, session: WebSession) -> Any:
        raise PageError("not found", 404)

    def post(self, request: Any, session: WebSession) -> Any:
        raise PageError("use GET", 405)

    def render_GET(self, request: Any) -> Any:
        session = self.ctx.sessions.get(request)
        if session is None or session.user is None:
            path = request.uri.decode("latin-1")
            redirect(request, "/login?next=" + quote(path, safe=""))
            return server.NOT_DONE_YET
        d = maybeDeferred(self.get, request, session)
        d.addCallback(lambda body: send_page(request, self.title, body, session))
        d.addErrback(self._failed, request, session)
        return server.NOT_DONE_YET

    def render_POST(self, request: Any) -> Any:
        session = self.ctx.sessions.get(request)
        if session is None or session.user is None:
            d = send_page(request, "Not logged in", tags.p(
                "Log in first: ", tags.a("log in", href="/login")), None, code=403)
            return server.NOT_DONE_YET
        if not session.csrf_ok(arg(request, "csrf")):
            log.info("admin {user}: refused a POST to {path} without a valid CSRF token",
                     user=session.user, path=request.path.decode("latin-1"))
            send_page(request, "Refused", tags.p(
                "This form had no valid CSRF token; reload the page and try again."),
                session, code=403)
            return server.NOT_DONE_YET
        d = maybeDeferred(self.post, request, session)
        d.addCallback(lambda location: redirect(request, location))
        d.addErrback(self._failed, request, session)
        return server.NOT_DONE_YET

    def _failed(self, failure: Any, request: Any, session: WebSession | None) -> Any:
        if failure.check(PageError):
            err = failure.value
            return send_page(request, "Not done", tags.p(str(err)), session, code=err.code)
        log.failure("admin page {path} failed", failure, path=request.path.decode("latin-1"))
        return send_page(request, "Internal error",
                         tags.p("Something went wrong; the gateway's log has the details."),
                         session, code=500)
