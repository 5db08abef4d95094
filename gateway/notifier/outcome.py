"""Recording what became of a send, and what SMS delivery reports say.

Each function runs in one store transaction (the caller's) and returns what it decided,
for the caller's log:

* ``record_sent``: sent (or delivered); reports may have come before this was recorded,
  so they are applied at once;
* ``record_failure``: every route failed: retried by ``Retry`` (or failed once the
  attempts are used up); when only the daily SMS budget stood in the way, it waits for
  the next UTC day without counting an attempt;
* ``take_report``: one delivery report, checked by its token, stored and applied;
* ``settle``: what the stored reports say; a failure re-queues by the same ``Retry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.notifier.claim import DAY, day_start
from gateway.notifier.policy import Retry
from gateway.notify.dlr import Report, check_token
from gateway.store.notifications import FAILED, Notification, NotificationQueue, Route

__all__ = ["Requeued", "Verdict", "ReportAnswer", "record_sent", "record_failure",
           "take_report", "settle"]


@dataclass(frozen=True, kw_only=True)
class Requeued:
    """A delivery report said "not delivered": queued again in ``delay`` seconds."""

    delay: float
    report: str


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """After a failed send: ``failed``, ``retry`` in ``delay`` s, or ``wait`` (budget)."""

    state: str
    reason: str
    delay: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ReportAnswer:
    """The answer to the report callback (HTTP code and JSON body) and what happened."""

    code: int
    body: dict[str, Any]
    result: str = ""                  # recorded, stale, unknown ("" when refused)
    state: str | None = None          # the notification's state afterwards
    requeued: Requeued | None = None


def settle(q: NotificationQueue, notification_id: int, now: float,
           retry: Retry) -> Requeued | None:
    """Apply what the reports of the current attempt say (nothing before the first)."""
    outcome = q.report_outcome(notification_id)
    if outcome is None or (outcome.state is None and outcome.time is None):
        return None                     # nothing reported yet
    n = q.get(notification_id)
    if outcome.state == FAILED and n is not None and not retry.exhausted(n.attempts):
        delay = retry.backoff(n.attempts)
        q.settle(notification_id, now=now, outcome=outcome, retry_at=now + delay)
        return Requeued(delay=delay, report=outcome.summary)
    q.settle(notification_id, now=now, outcome=outcome)
    return None


def record_sent(q: NotificationQueue, n: Notification, route: Route, *, delivered: bool,
                detail: str | None, report_parts: int, sms_parts: int, now: float,
                retry: Retry) -> Requeued | None:
    q.mark_sent(n.id, now=now, route=str(route), delivered=delivered, detail=detail,
                report_parts=report_parts)
    q.record_send(device_id=n.device_id, kind=route.kind, sms_parts=sms_parts, now=now)
    if report_parts:                    # reports may have come before this was recorded
        return settle(q, n.id, now, retry)
    return None


def record_failure(q: NotificationQueue, n: Notification, reasons: tuple[str, ...], *,
                   budget_only: bool, now: float, retry: Retry) -> Verdict:
    reason = "; ".join(reasons) or "no route tried"
    if budget_only:
        q.mark_retry(n.id, now=now, next_attempt=day_start(now) + DAY, reason=reason,
                     count_attempt=False)
        return Verdict(state="wait", reason=reason, delay=day_start(now) + DAY - now)
    attempts = n.attempts + 1          # this one included
    if retry.exhausted(attempts):
        q.mark_failed(n.id, now=now, reason=reason)
        return Verdict(state="failed", reason=reason)
    delay = retry.backoff(attempts)
    q.mark_retry(n.id, now=now, next_attempt=now + delay, reason=reason)
    return Verdict(state="retry", reason=reason, delay=delay)


def take_report(q: NotificationQueue, r: Report, now: float, retry: Retry) -> ReportAnswer:
    """403 for a bad token, 404 for an unknown notification (nothing changes for
    either), else 200 with the notification's state."""
    if not check_token(q.report_secret(), r.notification_id, r.attempt, r.token):
        return ReportAnswer(code=403, body={"error": "forbidden"})
    result = q.add_report(r, received=now)
    if result == "unknown":
        return ReportAnswer(code=404, body={"error": "no such notification"}, result=result)
    requeued = settle(q, r.notification_id, now, retry) if result == "recorded" else None
    n = q.get(r.notification_id)
    state = n.state if n else None
    return ReportAnswer(code=200, body={"id": r.notification_id, "state": state,
                                        "report": result},
                        result=result, state=state, requeued=requeued)
