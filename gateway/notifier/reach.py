"""Can a notification reach a device at all? Asked before one is queued, so an operator
hears at once that nothing would send it, instead of a queued row that fails later.

``unreachable(carriers, device, via)`` is the problem in words, or None when at least one
route of the device (or the ``via`` given) has a configured carrier.
"""

from __future__ import annotations

from typing import Iterable

from gateway.notifier.claim import resolve_routes
from gateway.store.notifications import NotifyDevice

__all__ = ["unreachable"]


def unreachable(carriers: Iterable[str], device_id: str, nd: NotifyDevice | None,
                via: str | None) -> str | None:
    """``carriers``: the kinds configured ([notify.udp], [notify.sip] ...)."""
    kinds = frozenset(carriers)
    try:
        routes = resolve_routes(via, nd)
    except ValueError as e:
        return str(e)
    if not routes:
        how = f" via {via}" if via else ""
        return (f"no route reaches {device_id}{how}: give one with `omads-admin device "
                f"notify-setup {device_id} --route ...` or --via udp:HOST:PORT, sip:URI ...")
    if not any(r.kind in kinds for r in routes):
        missing = sorted({r.kind for r in routes})
        return (f"no carrier for the routes of {device_id} ({', '.join(map(str, routes))}): "
                "configure " + ", ".join(f"[notify.{k}]" for k in missing))
    return None
