"""``/login`` and ``/logout``. A failed login is logged with the account tried and the
reason; ten failures from one address within five minutes refuse further tries there
for the rest of that time, without checking the password."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from twisted.internet.defer import maybeDeferred
from twisted.web import server
from twisted.web.resource import Resource
from twisted.web.template import tags

from gateway.admin.web.base import AdminContext, arg, log, redirect, send_page
from gateway.admin.web.layout import field, form
from gateway.store.ops import check_password

__all__ = ["Login", "Logout", "MAX_FAILURES", "WINDOW"]

MAX_FAILURES, WINDOW = 10, 300.0


def _check(ctx: AdminContext, name: str, password: str) -> str:
    """"" when the login is good, else the reason."""
    if ctx.ops is None:
        return "this store keeps no admin accounts"
    with ctx.ops.transaction() as (_tx, ops):
        account = ops.get_admin(name)
    if account is None:
        return "no such admin account"
    if not account.enabled:
        return "the account is disabled"
    return "" if check_password(account.secret, password) else "wrong password"


def _safe_next(raw: str) -> str:
    target = unquote(raw) if raw else "/devices"
    return target if target.startswith("/") and not target.startswith("//") else "/devices"


def _peer(request: Any) -> str:
    return str(getattr(request.getClientAddress(), "host", "-"))


class Login(Resource):
    isLeaf = True

    def __init__(self, ctx: AdminContext):
        super().__init__()
        self.ctx = ctx

    def _form(self, request: Any, session: Any, next_: str) -> Any:
        return [tags.p("Log in with an admin account (", tags.code("omads-admin admin add NAME"),
                       ")."),
                form("/login", session.csrf, field("Name", "name", required=True,
                                                   autocomplete="username"),
                     field("Password", "password", kind="password", required=True,
                           autocomplete="current-password"),
                     button="Log in", hidden={"next": next_}, form_id="login")]

    def render_GET(self, request: Any) -> Any:
        session = self.ctx.sessions.get(request) or self.ctx.sessions.start(request, None)
        send_page(request, "Log in", self._form(request, session, arg(request, "next")), session)
        return server.NOT_DONE_YET

    def render_POST(self, request: Any) -> Any:
        ctx = self.ctx
        session = ctx.sessions.get(request)
        if session is None or not session.csrf_ok(arg(request, "csrf")):
            session = session or ctx.sessions.start(request, None)
            send_page(request, "Log in", [tags.p("The login form had expired (no valid CSRF "
                                                 "token); try again.")]
                      + self._form(request, session, ""), session, code=403)
            return server.NOT_DONE_YET
        name, password, peer = arg(request, "name"), arg(request, "password"), _peer(request)
        now = ctx.reactor.seconds()
        recent = [t for t in ctx.failed_logins.get(peer, []) if t > now - WINDOW]
        ctx.failed_logins[peer] = recent
        if len(recent) >= MAX_FAILURES:
            d = maybeDeferred(lambda: f"throttled: {MAX_FAILURES} failures within {WINDOW:g} s")
        else:
            d = ctx.run(_check, ctx, name, password)

        def done(reason: str) -> Any:
            if not reason:
                log.info("admin {name} logged in from {peer}", name=name, peer=peer)
                ctx.failed_logins.pop(peer, None)
                ctx.sessions.start(request, name)
                return redirect(request, _safe_next(arg(request, "next")))
            ctx.failed_logins.setdefault(peer, []).append(now)
            log.info("admin login refused from {peer}: account {name!r}: {reason}",
                     peer=peer, name=name, reason=reason)
            session.flash.append(("error", "Wrong name or password."))
            return send_page(request, "Log in", self._form(request, session,
                                                           arg(request, "next")),
                             session, code=403)

        d.addCallback(done)
        d.addErrback(lambda f: (log.failure("admin login failed", f),
                                send_page(request, "Internal error",
                                          tags.p("The login could not be checked."),
                                          session, code=500)))
        return server.NOT_DONE_YET


class Logout(Resource):
    isLeaf = True

    def __init__(self, ctx: AdminContext):
        super().__init__()
        self.ctx = ctx

    def render_POST(self, request: Any) -> Any:
        session = self.ctx.sessions.get(request)
        if session is not None and session.csrf_ok(arg(request, "csrf")):
            self.ctx.sessions.end(request)
        redirect(request, "/login")
        return server.NOT_DONE_YET
