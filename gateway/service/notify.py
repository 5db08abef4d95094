"""The notify feature's hooks (see gateway/extensions.py): server-alerted sync.

``[notify]`` settings (notify_settings.py), the notification service with its carriers
and the optional admin HTTP listener (``make_services``), and the ``omads-admin device
notify…`` commands (notify_admin.py).
"""

from __future__ import annotations

from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import serverFromString

from gateway.admin import notify as notify_admin
from gateway.config.notify import Settings, parse

__all__ = ["SECTION", "Settings", "parse", "make_services", "add_admin_commands", "run_admin"]

SECTION = "notify"


def make_services(settings: Any, *, reactor: Any, store: Any, engine: Any, run: Any) -> list:
    """The notification service and its admin listeners (none when not enabled)."""
    from gateway.config import ConfigError
    from gateway.transport.notify.carriers.build import build_carriers
    from gateway.transport.notify.http import make_admin_site
    from gateway.transport.notify.service import NotifyService

    ns: Settings = settings.features.get(SECTION) or Settings()
    if not ns.enabled:
        return []
    svc = NotifyService(ns, server_id=settings.server.server_id,
                        datastores=settings.server.datastores, reactor=reactor, store=store,
                        run=run, carriers=build_carriers(ns, reactor=reactor))
    services: list = [svc]
    if ns.admin_listen:
        site = make_admin_site(svc, datastores=settings.server.datastores,
                               token=ns.admin_token)
        problems = []
        for i, desc in enumerate(ns.admin_listen):
            try:
                endpoint = serverFromString(reactor, desc)
            except Exception as e:
                problems.append(f"endpoint {desc!r}: {type(e).__name__}: {e}")
                continue
            listener = StreamServerEndpointService(endpoint, site)
            listener._raiseSynchronously = True
            listener.setName(f"notify-admin-{i}")
            services.append(listener)
        if problems:
            raise ConfigError(problems, "[notify] admin_listen")
    return services


def add_admin_commands(device_subparsers: Any) -> None:
    notify_admin.add_admin_commands(device_subparsers)


def run_admin(args: Any, store: Any, out: Any) -> bool:
    return notify_admin.run_admin(args, store, out)
