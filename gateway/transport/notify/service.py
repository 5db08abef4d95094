"""The notification service: works the persistent queue (gateway/store/notifications.py).

Every ``poll_interval`` (and right after an enqueue) it claims due notifications with a
lease, so several nodes sharing the database never send one twice while a node lives;
builds each SAN; tries the device's routes in order; records sent/delivered, or schedules
a retry with exponential backoff, or records the failure once ``max_attempts`` are used.
Limits: ``device_max_per_hour`` sends per device (more wait, not fail) and
``daily_sms_budget`` SMS parts per UTC day over the SMS carriers (an exhausted budget skips
them; if nothing else is left the notification waits for the next day). Every send is
bounded by ``send_timeout``, so no job hangs. The store calls run in the thread pool.
SMS delivery reports (``report``, called by the admin endpoint's ``/notify/dlr``) settle a
``sent`` notification: delivered, or failed, which re-queues it by the same retry policy
while attempts are left. Each poll also ends the wait of those without a final report
``dlr_timeout`` seconds after the send: they stay ``sent`` with the timeout as their
report and are not re-sent (the SMS may have arrived); a later report still settles them.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from typing import Any

from twisted.application import service
from twisted.internet.defer import CancelledError, Deferred, DeferredList, inlineCallbacks
from twisted.internet.defer import TimeoutError as TxTimeoutError
from twisted.internet.task import LoopingCall

from gateway.notify.dlr import Report, check_token, make_target
from gateway.store.notifications import (FAILED, SMS_KINDS, Notification, NotifyDevice,
                                         Route, parse_route)
from gateway.store.sqlite.notifications import SQLiteNotifications, ensure_schema
from gateway.transport import logs
from gateway.transport.notify.carriers.base import Carrier, CarrierError, Sent
from gateway.notifier.monitor import scan_changes
from gateway.notifier.payload import Payload, PayloadError, build_payload
from gateway.config.notify import NotifySettings

log = logs.get_logger("gateway.notify")
DAY = 86400.0
HOUR = 3600.0
CLAIM_BATCH = 20


def day_start(now: float) -> float:
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
    notification: Notification
    routes: tuple[Route, ...]
    payload: Payload
    sms_budget: int


class NotifyService(service.Service):
    name = "notify"

    def __init__(self, settings: NotifySettings, *, server_id: str, datastores: tuple, reactor: Any,
                 store: Any, run: Any, carriers: dict[str, Carrier]):
        self.settings = settings
        self.server_id = server_id
        self.datastores = datastores
        self.reactor = reactor
        self.store = store
        self.run = run
        self.carriers = carriers
        self.owner = settings.node_id or f"{socket.gethostname()}:{id(self):x}"
        self.ready: Deferred[Any] | None = None
        self._loops: list[LoopingCall] = []
        self._claiming: Deferred[Any] | None = None
        self._again = False
        self._inflight: set[Deferred[Any]] = set()

    # -- service ----------------------------------------------------------------------------
    def startService(self) -> None:
        super().startService()
        self.ready = self.run(ensure_schema, self.store)
        self.ready.addCallback(lambda _: self._start_loops())
        self.ready.addErrback(lambda f: log.failure("notification tables unusable", f))

    def _start_loops(self) -> None:
        if not self.running:
            return
        loops = [(self.settings.poll_interval, self.poll)]
        if self.settings.monitor_interval > 0 and self.settings.monitor_datastores:
            loops.append((self.settings.monitor_interval, self.monitor))
        for interval, fn in loops:
            loop = LoopingCall(fn)
            loop.clock = self.reactor
            loop.start(interval, now=True).addErrback(
                lambda f: log.failure("notification timer stopped", f))
            self._loops.append(loop)

    @inlineCallbacks
    def stopService(self) -> Any:
        super().stopService()
        for loop in self._loops:
            if loop.running:
                loop.stop()
        self._loops.clear()
        pending = list(self._inflight) + ([self._claiming] if self._claiming else [])
        for d in pending:
            d.cancel()
        yield DeferredList(pending, consumeErrors=True)
        for carrier in self.carriers.values():
            try:
                yield carrier.stop()
            except Exception:
                log.failure("stopping carrier {kind} failed", kind=carrier.kind)

    # -- the API the admin endpoint uses --------------------------------------------------------
    def enqueue(self, device_id: str, datastores: tuple[str, ...] = (), via: str | None = None,
                origin: str = "http") -> Deferred[tuple[Notification, bool]]:
        def work() -> tuple[Notification, bool]:
            with self.store.transaction() as tx:
                return SQLiteNotifications(tx).enqueue(
                    device_id=device_id, datastores=datastores, via=via,
                    now=self.reactor.seconds(), origin=origin)
        d = self.run(work)
        d.addCallback(self._kick)
        return d

    def get(self, notification_id: int) -> Deferred[Notification | None]:
        def work() -> Notification | None:
            with self.store.transaction() as tx:
                return SQLiteNotifications(tx).get(notification_id)
        return self.run(work)

    def _kick(self, result: Any) -> Any:
        if self.running and self._loops:
            self.reactor.callLater(0, self.poll)
        return result

    # -- claiming and sending ----------------------------------------------------------------
    def poll(self) -> Deferred[Any] | None:
        if self._claiming is not None:
            self._again = True
            return None
        now = self.reactor.seconds()
        d = self._claiming = self.run(self._claim, now)
        d.addCallback(self._start_jobs)
        d.addErrback(self._claim_failed)
        d.addBoth(self._claimed)
        return d

    @staticmethod
    def _claim_failed(failure: Any) -> None:
        if not failure.check(CancelledError):
            log.failure("claiming notifications failed", failure)

    def _claimed(self, _: Any) -> None:
        self._claiming = None
        if self._again and self.running:
            self._again = False
            self.poll()

    def _claim(self, now: float) -> list[Job]:
        s = self.settings
        jobs: list[Job] = []
        with self.store.transaction() as tx:
            q = SQLiteNotifications(tx)
            for n in q.expire_reports(now, timeout=s.dlr_timeout, limit=CLAIM_BATCH):
                log.info("notification {id} for {device}: {report}", id=n.id,
                         device=n.device_id, report=n.report)
            budget = s.daily_sms_budget - q.sms_parts_since(day_start(now))
            for n in q.claim_due(now, owner=self.owner, lease=s.lease, limit=CLAIM_BATCH):
                nd = q.get_device(n.device_id) or s.device(n.device_id)
                try:
                    routes = resolve_routes(n.via, nd)
                except ValueError as e:
                    q.mark_failed(n.id, now=now, reason=str(e), count_attempt=False)
                    continue
                if not routes:
                    q.mark_failed(n.id, now=now, count_attempt=False,
                                  reason=f"no route to {n.device_id}"
                                  + (f" via {n.via}" if n.via else ""))
                    continue
                if q.count_sends(since=now - HOUR, device_id=n.device_id) \
                        >= s.device_max_per_hour:
                    first = q.first_send_since(since=now - HOUR, device_id=n.device_id)
                    q.mark_retry(n.id, now=now, next_attempt=(first or now) + HOUR,
                                 reason="rate limit: device_max_per_hour reached",
                                 count_attempt=False)
                    continue
                try:
                    payload = build_payload(n, server_id=self.server_id,
                                            datastores=self.datastores,
                                            device=tx.get_device(n.device_id), nd=nd,
                                            ui_mode=s.ui_mode)
                except (PayloadError, ValueError) as e:
                    q.mark_failed(n.id, now=now, reason=str(e), count_attempt=False)
                    continue
                if self._wants_reports(routes):
                    payload = replace(payload, reports=make_target(
                        base=s.dlr_url_base, secret=q.report_secret(),
                        notification_id=n.id, attempt=n.attempts + 1))
                jobs.append(Job(notification=n, routes=routes, payload=payload,
                                sms_budget=budget))
                budget -= max((self.carriers[r.kind].sms_parts(payload) for r in routes
                               if r.sms and r.kind in self.carriers), default=0)
        return jobs

    def _wants_reports(self, routes: tuple[Route, ...]) -> bool:
        if not self.settings.dlr_url_base:
            return False
        return any(getattr(getattr(self.settings, r.kind, None), "dlr", False)
                   for r in routes if r.kind in ("kannel", "pap"))

    def _start_jobs(self, jobs: list[Job]) -> None:
        for job in jobs:
            d = self._deliver(job)
            self._inflight.add(d)
            d.addErrback(lambda f, n=job.notification: log.failure(
                "notification {id} for {device}: recording the outcome failed", f,
                id=n.id, device=n.device_id))
            d.addBoth(lambda _, d=d: self._inflight.discard(d))

    @inlineCallbacks
    def _deliver(self, job: Job) -> Any:
        n = job.notification
        reasons: list[str] = []
        budget_only = True
        for route in job.routes:
            carrier = self.carriers.get(route.kind)
            if carrier is None:
                reasons.append(f"{route}: no [notify.{route.kind}] carrier configured")
                budget_only = False
                continue
            parts = carrier.sms_parts(job.payload) if carrier.sms else 0
            if parts > job.sms_budget:
                reasons.append(f"{route}: daily SMS budget exhausted")
                continue
            budget_only = False
            try:
                d = carrier.send(route.address, job.payload)
                d.addTimeout(self.settings.send_timeout, self.reactor)
                sent = yield d
            except (CancelledError, TxTimeoutError):
                if not self.running:
                    return None
                reasons.append(f"{route}: no outcome within {self.settings.send_timeout:g} s")
                continue
            except CarrierError as e:
                reasons.append(f"{route}: {e.reason}")
                continue
            except Exception as e:
                log.failure("carrier {kind} raised", kind=route.kind)
                reasons.append(f"{route}: internal error {type(e).__name__}: {e}")
                continue
            log.info("notification {id} for {device} {state} via {route}: {detail}", id=n.id,
                     device=n.device_id, route=str(route), detail=sent.detail,
                     state="delivered" if sent.delivered else "sent")
            yield self.run(self._record_sent, n, route, sent, parts, self.reactor.seconds())
            return None
        yield self.run(self._record_failure, n, tuple(reasons), budget_only and bool(reasons),
                       self.reactor.seconds())
        return None

    def _record_sent(self, n: Notification, route: Route, sent: Sent, parts: int,
                     now: float) -> None:
        with self.store.transaction() as tx:
            q = SQLiteNotifications(tx)
            q.mark_sent(n.id, now=now, route=str(route), delivered=sent.delivered,
                        detail=sent.detail, report_parts=sent.report_parts)
            q.record_send(device_id=n.device_id, kind=route.kind, sms_parts=parts, now=now)
            if sent.report_parts:        # reports may have come before this was recorded
                self._settle(q, n.id, now)

    def _record_failure(self, n: Notification, reasons: tuple[str, ...], budget_only: bool,
                        now: float) -> None:
        s = self.settings
        reason = "; ".join(reasons) or "no route tried"
        with self.store.transaction() as tx:
            q = SQLiteNotifications(tx)
            if budget_only:
                q.mark_retry(n.id, now=now, next_attempt=day_start(now) + DAY, reason=reason,
                             count_attempt=False)
            elif n.attempts + 1 >= s.max_attempts:
                log.warn("notification {id} for {device} failed: {reason}", id=n.id,
                         device=n.device_id, reason=reason)
                q.mark_failed(n.id, now=now, reason=reason)
            else:
                delay = min(s.retry_delay * 2 ** n.attempts, s.retry_max_delay)
                log.info("notification {id} for {device}: retry in {delay:g} s ({reason})",
                         id=n.id, device=n.device_id, delay=delay, reason=reason)
                q.mark_retry(n.id, now=now, next_attempt=now + delay, reason=reason)

    # -- delivery reports ----------------------------------------------------------------------
    def report(self, report: Report) -> Deferred[tuple[int, dict[str, Any]]]:
        """Take one delivery report: (HTTP code, answer). 403 for a bad token, 404 for an
        unknown notification (nothing changes for either), else 200."""
        return self.run(self._take_report, report, self.reactor.seconds())

    def _take_report(self, r: Report, now: float) -> tuple[int, dict[str, Any]]:
        with self.store.transaction() as tx:
            q = SQLiteNotifications(tx)
            if not check_token(q.report_secret(), r.notification_id, r.attempt, r.token):
                return 403, {"error": "forbidden"}
            result = q.add_report(r, received=now)
            if result == "unknown":
                return 404, {"error": "no such notification"}
            if result == "recorded":
                self._settle(q, r.notification_id, now)
            n = q.get(r.notification_id)
        log.info("notification {id}: delivery report part {part} type {status} "
                 "({result}), now {state}", id=r.notification_id, part=r.part,
                 status=r.status, result=result, state=n.state if n else "?")
        return 200, {"id": r.notification_id, "state": n.state if n else None,
                     "report": result}

    def _settle(self, q: SQLiteNotifications, notification_id: int, now: float) -> None:
        """Apply what the reports say (a failure re-queues while attempts are left; the
        poll loop picks it up when due)."""
        outcome = q.report_outcome(notification_id)
        if outcome is None or (outcome.state is None and outcome.time is None):
            return                      # nothing reported yet
        n = q.get(notification_id)
        s = self.settings
        if outcome.state == FAILED and n is not None and n.attempts < s.max_attempts:
            delay = min(s.retry_delay * 2 ** max(n.attempts - 1, 0), s.retry_max_delay)
            q.settle(notification_id, now=now, outcome=outcome, retry_at=now + delay)
            log.info("notification {id}: delivery failed ({report}), retry in {delay:g} s",
                     id=notification_id, report=outcome.summary, delay=delay)
            return
        q.settle(notification_id, now=now, outcome=outcome)

    # -- monitoring -------------------------------------------------------------------------------
    def monitor(self) -> Deferred[Any]:
        d = self.run(scan_changes, self.store, self.settings, self.datastores,
                     self.reactor.seconds())

        def queued(ids: list[int]) -> None:
            if ids:
                log.info("server-side changes: queued notifications {ids}", ids=ids)
                self._kick(None)
        d.addCallback(queued)
        d.addErrback(lambda f: log.failure("change monitoring failed", f))
        return d
