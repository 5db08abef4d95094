"""``/health``: this node, whether the store answers, versions, listeners, the modem."""

from __future__ import annotations

import platform
import sqlite3
from typing import Any

import twisted
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from gateway import __version__
from gateway.admin.web.base import Page
from gateway.admin.web.layout import dl, section, table, when

__all__ = ["Health"]


def _probe(ctx: Any) -> str:
    with ctx.store.transaction() as tx:
        tx.list_accounts()
    return "reachable"


class Health(Page):
    title = "Health"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        ctx = self.ctx
        try:
            store = yield ctx.run(_probe, ctx)
        except Exception as e:   # the page reports it; the log has the failure
            store = f"NOT reachable: {type(e).__name__}: {e}"
        snap = ctx.snapshot
        modem = ctx.modem() if ctx.modem is not None else "not configured"
        return [dl((
            ("Node", ctx.node), ("Store", tags.span(store, class_="ok" if store == "reachable"
                                                     else "error")),
            ("Database", ctx.settings.store.path),
            ("Versions", f"omads-gateway {__version__}, Python {platform.python_version()}, "
                         f"Twisted {twisted.__version__}, SQLite {sqlite3.sqlite_version}"),
            ("Notification service", "running" if ctx.notify is not None else "disabled"),
            ("Modem", modem),
            ("Live sessions", snap.get("sessions.live", "-")),
            ("Devices / users", f"{snap.get('devices', '-')} / {snap.get('users', '-')}"),
            ("Counts taken", when(snap.get("taken"))))),
            *section("Listeners", table(("Name", "Endpoint", "State"), (
                (name, desc, tags.span(state, class_="ok" if state == "listening" else "error"))
                for name, desc, state in ctx.listeners()), empty="none"))]
