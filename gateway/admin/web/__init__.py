"""The admin web pages: one ``twisted.web`` resource tree on the admin listener.

    /login /logout                 admin accounts (omads-admin admin add NAME)
    /devices /device?id=…          devices, their last syncs; notify now, forget anchors, trace
    /sessions /session?id=N        live and recent sessions, messages, redacted traces
    /notifications                 the notification queue and delivery reports
    /users                         sync accounts: add, enable/disable, password
    /health                        node, store, versions, listeners, modem
    /metrics                       Prometheus (no login: keep the listener on loopback)
    /notify …                      the JSON notification endpoints (their own token rules)

Pages are built from ``twisted.web.template`` tags (escaped by construction), need a
login (websession.py) and take every change as a POST with the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from twisted.web import pages, resource, server
from twisted.web.resource import Resource

from gateway.admin.web.base import AdminContext, redirect, secure_headers
from gateway.admin.web.devices import DeviceList, DevicePage
from gateway.admin.web.health import Health
from gateway.admin.web.history import SessionList, SessionPage
from gateway.admin.web.layout import CSS
from gateway.admin.web.login import Login, Logout
from gateway.admin.web.queue import NotificationList
from gateway.admin.web.users import UserList
from gateway.admin.web.websession import WebSessions

__all__ = ["AdminContext", "WebSessions", "AdminRoot", "admin_root"]


class _Stylesheet(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        secure_headers(request)
        request.setHeader(b"content-type", b"text/css; charset=utf-8")
        request.setHeader(b"cache-control", b"max-age=3600")
        return CSS


class _Home(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> Any:
        redirect(request, "/devices")
        return server.NOT_DONE_YET


class AdminRoot(Resource):
    """Routes the first path segment; anything else is 404."""

    def __init__(self, ctx: AdminContext, extra: dict[bytes, Resource]):
        super().__init__()
        self.children_ = {
            b"": _Home(), b"login": Login(ctx), b"logout": Logout(ctx),
            b"devices": DeviceList(ctx), b"device": DevicePage(ctx),
            b"sessions": SessionList(ctx), b"session": SessionPage(ctx),
            b"notifications": NotificationList(ctx), b"users": UserList(ctx),
            b"health": Health(ctx), b"static": resource.Resource(), **extra,
        }
        self.children_[b"static"].putChild(b"admin.css", _Stylesheet())

    def getChild(self, path: bytes, request: Any) -> Resource:
        child = self.children_.get(path)
        if child is None:
            return pages.notFound("No such page", "There is no such admin page.")
        return child

    def render_GET(self, request: Any) -> Any:
        redirect(request, "/devices")
        return server.NOT_DONE_YET


def admin_root(ctx: AdminContext, **extra: Resource) -> AdminRoot:
    """The tree; ``extra``: more children by name (``metrics``, ``notify``)."""
    return AdminRoot(ctx, {k.encode("ascii"): v for k, v in extra.items()})
