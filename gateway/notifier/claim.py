"""Claiming due notifications: what to send now, over which routes, in which payload.

``claim(tx, q, now, ...)`` runs in one store transaction (the caller's): it first ends the
wait of sent notifications whose delivery reports did not come within ``dlr_timeout``,
then claims due rows with a lease (so several nodes on one database never send one twice
while a node lives) and decides for each one:

* no route (none configured, or a bad ``via``): failed, no attempt counted;
* ``device_max_per_hour`` sends reached: waits an hour after the first of them;
* the payload cannot be built (an unknown datastore): failed;
* else a ``Job`` for the shell to send, with the SMS budget of the UTC day left for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from gateway.ds.settings import DatastoreSettings
from gateway.notifier.payload import Payload, PayloadError, build_payload
from gateway.notifier.policy import Limits
from gateway.notify.dlr import make_target
from gateway.store.base import StoreTransaction
from gateway.store.notifications import (SMS_KINDS, Notification, NotificationQueue,
                                         NotifyDevice, Route, parse_route)

__all__ = ["DAY", "HOUR", "CLAIM_BATCH", "day_start", "resolve_routes", "Job", "Claim", "claim"]

DAY = 86400.0
HOUR = 3600.0
CLAIM_BATCH = 20


def day_start(now: float) -> float:
    """The start of the UTC day ``now`` falls in (the SMS budget's day)."""
    return now - now % DAY


def resolve_routes(via: str | None, nd: NotifyDevice | None) -> tuple[Route, ...]:
    """The routes to try: the device's, those of one kind, or one ad-hoc route."""
    own = nd.routes if nd is not None else ()
    if via is None:
        return own
    route = parse_route(via, bare=True)
    if route.address:
        return (route,)
    same = tuple(r for r in own if r.kind == route.kind)
    if same or route.kind not in SMS_KINDS:
        return same
    msisdn = next((r.address for r in own if r.sms), None)    # the device's number
    return (Route(kind=route.kind, address=msisdn),) if msisdn else ()


@dataclass(frozen=True, kw_only=True)
class Job:
    """One claimed notification to send: its routes in order and its payload."""

    notification: Notification
    routes: tuple[Route, ...]
    payload: Payload
    sms_budget: int               # SMS parts still allowed today when it was claimed

    def over_budget(self, parts: int) -> bool:
        return parts > self.sms_budget


@dataclass(frozen=True, kw_only=True)
class Claim:
    jobs: list[Job] = field(default_factory=list)
    report_timeouts: list[Notification] = field(default_factory=list)   # waits ended now


def _wants_reports(limits: Limits, routes: tuple[Route, ...]) -> bool:
    return bool(limits.dlr_url_base) and any(r.kind in limits.report_kinds for r in routes)


def claim(tx: StoreTransaction, q: NotificationQueue, now: float, *, limits: Limits,
          owner: str, server_id: str, datastores: tuple[DatastoreSettings, ...],
          sms_parts: Callable[[str, Payload], int]) -> Claim:
    """Claim up to ``CLAIM_BATCH`` due notifications for ``owner``; ``sms_parts(kind,
    payload)`` is how many SMS the carrier of that kind would send (0: none, or no such
    carrier)."""
    done = Claim(report_timeouts=q.expire_reports(now, timeout=limits.dlr_timeout,
                                                  limit=CLAIM_BATCH))
    budget = limits.daily_sms_budget - q.sms_parts_since(day_start(now))
    for n in q.claim_due(now, owner=owner, lease=limits.lease, limit=CLAIM_BATCH):
        nd = q.get_device(n.device_id) or limits.device(n.device_id)
        try:
            routes = resolve_routes(n.via, nd)
        except ValueError as e:
            q.mark_failed(n.id, now=now, reason=str(e), count_attempt=False)
            continue
        if not routes:
            q.mark_failed(n.id, now=now, count_attempt=False,
                          reason=f"no route to {n.device_id}" + (f" via {n.via}" if n.via else ""))
            continue
        if q.count_sends(since=now - HOUR, device_id=n.device_id) >= limits.device_max_per_hour:
            first = q.first_send_since(since=now - HOUR, device_id=n.device_id)
            q.mark_retry(n.id, now=now, next_attempt=(first or now) + HOUR,
                         reason="rate limit: device_max_per_hour reached", count_attempt=False)
            continue
        try:
            payload = build_payload(n, server_id=server_id, datastores=datastores,
                                    device=tx.get_device(n.device_id), nd=nd,
                                    ui_mode=limits.ui_mode)
        except (PayloadError, ValueError) as e:
            q.mark_failed(n.id, now=now, reason=str(e), count_attempt=False)
            continue
        if _wants_reports(limits, routes):
            payload = replace(payload, reports=make_target(
                base=limits.dlr_url_base, secret=q.report_secret(), notification_id=n.id,
                attempt=n.attempts + 1))
        done.jobs.append(Job(notification=n, routes=routes, payload=payload, sms_budget=budget))
        budget -= max((sms_parts(r.kind, payload) for r in routes if r.sms), default=0)
    return done
