"""The notification part of the tree: the service with its carriers; nothing when
``[notify] enabled`` is false. Its endpoints (``/notify``) are on the admin listener
(gateway/service/admin.py)."""

from __future__ import annotations

from typing import Any

from gateway.config import Settings
from gateway.transport.notify.carriers.build import build_carriers
from gateway.transport.notify.service import NotifyService
from gateway.transport.pool import Runner

__all__ = ["notify_service"]


def notify_service(settings: Settings, *, reactor: Any, store: Any,
                   run: Runner) -> NotifyService | None:
    """The ``notify`` service, or None when disabled."""
    ns = settings.notify
    if not ns.enabled:
        return None
    return NotifyService(ns, server_id=settings.server.server_id,
                         datastores=settings.server.datastores, reactor=reactor, store=store,
                         run=run, carriers=build_carriers(ns, reactor=reactor))
