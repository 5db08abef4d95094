"""The notification part of the tree: the service with its carriers, and the admin
listeners (``[notify] admin_listen``); nothing when ``[notify] enabled`` is false."""

from __future__ import annotations

from typing import Any

from gateway.config import Settings
from gateway.transport.listen import listeners
from gateway.transport.notify.carriers.build import build_carriers
from gateway.transport.notify.http import make_admin_site
from gateway.transport.notify.service import NotifyService
from gateway.transport.pool import Runner

__all__ = ["notify_services"]


def notify_services(settings: Settings, *, reactor: Any, store: Any, run: Runner) -> list:
    """``notify``, then ``notify-admin-0``…; ConfigError if a listener cannot be built."""
    ns = settings.notify
    if not ns.enabled:
        return []
    svc = NotifyService(ns, server_id=settings.server.server_id,
                        datastores=settings.server.datastores, reactor=reactor, store=store,
                        run=run, carriers=build_carriers(ns, reactor=reactor))
    site = make_admin_site(svc, datastores=settings.server.datastores, token=ns.admin_token)
    return [svc, *listeners(reactor, ns.admin_listen, site, prefix="notify-admin",
                            where="[notify] admin_listen")]
