"""``/notifications``: the queue (queued, sent, delivered, failed), attempts, the route of
the last try and the delivery reports."""

from __future__ import annotations

import time
from typing import Any

from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from gateway.admin.web.base import Page
from gateway.admin.web.layout import link, table, when
from gateway.store.base import StoreError
from gateway.store.notifications import notification_store

__all__ = ["NotificationList"]


def _report(n: Any) -> str:
    if not n.report_parts and n.report is None:
        return "-"
    stamp = time.strftime("%H:%M:%S", time.localtime(n.report_time)) if n.report_time else ""
    return f"{stamp} {n.report or 'awaiting'}".strip()


class NotificationList(Page):
    title = "Notifications"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        ctx = self.ctx

        def load() -> list:
            try:
                queues = notification_store(ctx.store)
                queues.ensure_schema()
                with queues.transaction() as (_tx, q):
                    return q.list(limit=100)
            except StoreError:
                return []
        rows = yield ctx.run(load)
        state = ("running" if ctx.notify is not None
                 else "disabled ([notify] enabled = false): queued rows wait for a node that runs it")
        counts = ", ".join(f"{k.partition('.')[2]} {v}" for k, v in sorted(ctx.snapshot.items())
                           if k.startswith("queue.")) or "no snapshot yet"
        return [tags.p(f"The notification service on this node is {state}. Queue: {counts}."),
                table(("ID", "Device", "State", "Datastores", "Attempts", "Route", "Origin",
                       "Updated", "Delivery report", "Reason"),
                      ((n.id, link(n.device_id, "/device", id=n.device_id),
                        tags.span(n.state, class_=n.state), ", ".join(n.datastores) or "all",
                        n.attempts, n.route or n.via or "-", n.origin, when(n.updated),
                        _report(n), n.reason or "") for n in rows),
                      empty="No notification queued yet.", numeric=(0, 4))]
