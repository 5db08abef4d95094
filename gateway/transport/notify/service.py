"""The notification service: the Twisted scheduling around the queue decisions.

Every ``poll_interval`` (and right after an enqueue) it claims due notifications
(gateway/notifier/claim.py decides which, over which routes, within which limits), tries
each job's routes in order through the carriers, each send bounded by ``send_timeout`` so
no job hangs, and records the outcome (gateway/notifier/outcome.py: sent, retried with
the one backoff, or failed). SMS delivery reports (``report``, called by the admin
endpoint's ``/notify/dlr``) settle a ``sent`` notification. The queue lives in the store
(``notification_store(store)``); every transaction runs in the thread pool (``run``).
"""

from __future__ import annotations

import socket
from typing import Any, Callable

from twisted.application import service
from twisted.internet.defer import CancelledError, Deferred, DeferredList, inlineCallbacks
from twisted.internet.defer import TimeoutError as TxTimeoutError
from twisted.internet.task import LoopingCall

from gateway.config.notify import NotifySettings
from gateway.notifier import outcome
from gateway.notifier.claim import Job, claim
from gateway.notifier.monitor import scan_changes
from gateway.notifier.payload import Payload
from gateway.notify.dlr import Report
from gateway.store.notifications import Notification, Route, notification_store
from gateway.transport import logs
from gateway.transport.notify.carriers.base import Carrier, CarrierError, Sent

__all__ = ["NotifyService"]

log = logs.get_logger("gateway.notify")


class NotifyService(service.Service):
    name = "notify"

    def __init__(self, settings: NotifySettings, *, server_id: str, datastores: tuple,
                 reactor: Any, store: Any, run: Any, carriers: dict[str, Carrier]):
        self.settings = settings
        self.server_id = server_id
        self.datastores = datastores
        self.reactor = reactor
        self.store = store
        self.queues = notification_store(store)
        self.run = run
        self.carriers = carriers
        self.owner = settings.node_id or f"{socket.gethostname()}:{id(self):x}"
        self.ready: Deferred[Any] | None = None
        self._loops: list[LoopingCall] = []
        self._claiming: Deferred[Any] | None = None
        self._again = False
        self._inflight: set[Deferred[Any]] = set()

    def _in_queue(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Deferred[Any]:
        """``fn(tx, q, *args, **kw)`` in one queue transaction, in the thread pool."""
        def work() -> Any:
            with self.queues.transaction() as (tx, q):
                return fn(tx, q, *args, **kw)
        return self.run(work)

    # -- service ----------------------------------------------------------------------------
    def startService(self) -> None:
        super().startService()
        self.ready = self.run(self.queues.ensure_schema)
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
        d = self._in_queue(lambda tx, q: q.enqueue(
            device_id=device_id, datastores=datastores, via=via, now=self.reactor.seconds(),
            origin=origin))
        d.addCallback(self._kick)
        return d

    def get(self, notification_id: int) -> Deferred[Notification | None]:
        return self._in_queue(lambda tx, q: q.get(notification_id))

    def _kick(self, result: Any) -> Any:
        if self.running and self._loops:
            self.reactor.callLater(0, self.poll)
        return result

    # -- claiming and sending ----------------------------------------------------------------
    def poll(self) -> Deferred[Any] | None:
        if self._claiming is not None:
            self._again = True
            return None
        d = self._claiming = self._in_queue(
            claim, self.reactor.seconds(), limits=self.settings, owner=self.owner,
            server_id=self.server_id, datastores=self.datastores, sms_parts=self._sms_parts)
        d.addCallback(self._start_jobs)
        d.addErrback(self._claim_failed)
        d.addBoth(self._claimed)
        return d

    def _sms_parts(self, kind: str, payload: Payload) -> int:
        carrier = self.carriers.get(kind)
        return carrier.sms_parts(payload) if carrier is not None and carrier.sms else 0

    @staticmethod
    def _claim_failed(failure: Any) -> None:
        if not failure.check(CancelledError):
            log.failure("claiming notifications failed", failure)

    def _claimed(self, _: Any) -> None:
        self._claiming = None
        if self._again and self.running:
            self._again = False
            self.poll()

    def _start_jobs(self, claimed: Any) -> None:
        for n in claimed.report_timeouts:
            log.info("notification {id} for {device}: {report}", id=n.id, device=n.device_id,
                     report=n.report)
        for job in claimed.jobs:
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
            if job.over_budget(parts):
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
            yield self._record_sent(n, route, sent, parts)
            return None
        now = self.reactor.seconds()
        verdict = yield self._in_queue(
            lambda tx, q: outcome.record_failure(q, n, tuple(reasons),
                                                 budget_only=budget_only and bool(reasons),
                                                 now=now, retry=self.settings.retry))
        if verdict.state == "failed":
            log.warn("notification {id} for {device} failed: {reason}", id=n.id,
                     device=n.device_id, reason=verdict.reason)
        elif verdict.state == "retry":
            log.info("notification {id} for {device}: retry in {delay:g} s ({reason})",
                     id=n.id, device=n.device_id, delay=verdict.delay, reason=verdict.reason)
        return None

    def _record_sent(self, n: Notification, route: Route, sent: Sent,
                     parts: int) -> Deferred[None]:
        now = self.reactor.seconds()
        d = self._in_queue(lambda tx, q: outcome.record_sent(
            q, n, route, delivered=sent.delivered, detail=sent.detail,
            report_parts=sent.report_parts, sms_parts=parts, now=now,
            retry=self.settings.retry))
        d.addCallback(lambda requeued: self._log_requeued(n.id, requeued))
        return d

    @staticmethod
    def _log_requeued(notification_id: int, requeued: outcome.Requeued | None) -> None:
        if requeued is not None:
            log.info("notification {id}: delivery failed ({report}), retry in {delay:g} s",
                     id=notification_id, report=requeued.report, delay=requeued.delay)

    # -- delivery reports ----------------------------------------------------------------------
    def report(self, report: Report) -> Deferred[tuple[int, dict[str, Any]]]:
        """Take one delivery report: (HTTP code, answer). 403 for a bad token, 404 for an
        unknown notification (nothing changes for either), else 200."""
        now = self.reactor.seconds()
        d = self._in_queue(lambda tx, q: outcome.take_report(q, report, now,
                                                              self.settings.retry))
        d.addCallback(self._reported, report)
        return d

    def _reported(self, answer: outcome.ReportAnswer, r: Report) -> tuple[int, dict[str, Any]]:
        if answer.code == 200:
            self._log_requeued(r.notification_id, answer.requeued)
            log.info("notification {id}: delivery report part {part} type {status} "
                     "({result}), now {state}", id=r.notification_id, part=r.part,
                     status=r.status, result=answer.result, state=answer.state or "?")
        return answer.code, answer.body

    # -- monitoring -------------------------------------------------------------------------------
    def monitor(self) -> Deferred[Any]:
        d = self._in_queue(scan_changes, monitor_datastores=self.settings.monitor_datastores,
                           devices=self.settings.devices, datastores=self.datastores,
                           now=self.reactor.seconds())

        def queued(ids: list[int]) -> None:
            if ids:
                log.info("server-side changes: queued notifications {ids}", ids=ids)
                self._kick(None)
        d.addCallback(queued)
        d.addErrback(lambda f: log.failure("change monitoring failed", f))
        return d
