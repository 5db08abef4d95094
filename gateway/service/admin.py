"""The admin part of the tree: the one admin listener (``[admin] listen``) serving the web
pages (gateway/admin/web), ``/metrics`` and the notification endpoints ``/notify``
(gateway/transport/notify/http.py, with their own token rules), plus the timer that takes
the background snapshot (queue depth, live sessions) the metrics and pages show.

Also the admin accounts the configuration bootstraps (``[[admin.user]]``), created when
absent, with a warning to change their passwords.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Iterable

from prometheus_client.twisted import MetricsResource
from twisted.application.service import Service
from twisted.internet.task import LoopingCall
from twisted.web import resource

from gateway.admin.web import AdminContext, WebSessions, admin_root
from gateway.config import BootstrapUser, Settings
from gateway.service.metrics import Metrics
from gateway.store.ops import AdminAccount, hash_password
from gateway.transport import logs
from gateway.transport.http import SyncSite
from gateway.transport.listen import listeners
from gateway.transport.notify.http import NotifyResource
from gateway.transport.pool import Runner

__all__ = ["admin_services", "bootstrap_admins", "MAX_ADMIN_BODY"]

log = logs.get_logger("gateway.service")
MAX_ADMIN_BODY = 65536


class _Every(Service):
    """Calls ``fn`` every ``interval`` seconds while running, the first time one interval
    after the start (so a start does not wait on it)."""

    def __init__(self, name: str, interval: float, fn: Any, clock: Any):
        self.setName(name)
        self.interval = interval
        self.loop = LoopingCall(fn)
        self.loop.clock = clock

    def startService(self) -> None:
        super().startService()
        d = self.loop.start(self.interval, now=False)
        d.addErrback(lambda f: log.failure("{name} stopped", f, name=self.name))

    def stopService(self) -> None:
        super().stopService()
        if self.loop.running:
            self.loop.stop()


class _Disabled(resource.Resource):
    """``/notify`` while the notification service does not run here."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        request.setResponseCode(503)
        request.setHeader(b"content-type", b"application/json")
        return json.dumps({"error": "the notification service is disabled "
                                    "([notify] enabled = false)"}).encode() + b"\n"


def bootstrap_admins(ops: Any, users: Iterable[BootstrapUser]) -> list[str]:
    """Create the configured admin accounts that do not exist yet."""
    created = []
    with ops.transaction() as (_tx, log_):
        for user in users:
            if log_.get_admin(user.name) is None:
                log_.put_admin(AdminAccount(name=user.name, secret=hash_password(user.password),
                                            created=time.time()))
                created.append(user.name)
    return created


def _snapshot(ops: Any) -> dict[str, int]:
    with ops.transaction() as (_tx, log_):
        return log_.counts()


def _modem_state(notify: Any) -> Any:
    carrier = getattr(notify, "carriers", {}).get("modem") if notify is not None else None
    if carrier is None:
        return None

    def state() -> str:
        link = "open" if getattr(carrier, "_port", None) is not None else "not open"
        modem = getattr(carrier, "modem", None)
        phase = getattr(modem, "state", None)
        return f"{carrier.settings.device}: {link}" + (f", {getattr(phase, 'name', phase)}"
                                                        if phase is not None else "")
    return state


def admin_services(settings: Settings, *, reactor: Any, store: Any, ops: Any, run: Runner,
                   notify: Any, metrics: Metrics, tree: Any) -> list:
    """``admin-snapshot``, then ``admin-0``…; none without ``[admin] listen``. ``tree``:
    the service tree (the health page lists its listeners)."""
    a = settings.admin

    def listening() -> list[tuple[str, str, str]]:
        out = []
        for child in tree:
            desc = getattr(child, "description", None)
            if desc is not None:
                out.append((child.name, desc, "listening" if getattr(child, "port", None) is not None
                            else "not listening"))
        return out

    ctx = AdminContext(store=store, ops=ops, run=run, reactor=reactor, settings=settings,
                       sessions=WebSessions(reactor, timeout=a.session_timeout), notify=notify,
                       listeners=listening, modem=_modem_state(notify),
                       node=settings.notify.node_id or socket.gethostname())
    services: list = []
    if ops is not None:
        def refresh() -> Any:
            d = run(_snapshot, ops)

            def apply(counts: dict[str, int]) -> None:
                taken = time.time()
                ctx.snapshot = {**counts, "taken": taken}
                metrics.apply_snapshot(counts, taken=taken)
            d.addCallback(apply)
            d.addErrback(lambda f: log.failure("taking the admin snapshot failed", f))
            return d
        services.append(_Every("admin-snapshot", a.snapshot_interval, refresh, reactor))
    if not a.listen:
        return services
    notify_resource = (NotifyResource(notify, datastores=settings.server.datastores,
                                      token=settings.notify.admin_token)
                       if notify is not None else _Disabled())
    root = admin_root(ctx, metrics=MetricsResource(registry=metrics.registry),
                      notify=notify_resource)
    site = SyncSite(root, max_message_size=MAX_ADMIN_BODY, reactor=reactor)
    return services + listeners(reactor, a.listen, site, prefix="admin", where="[admin] listen")
