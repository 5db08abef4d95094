"""The notification policy without a store or a reactor: the one retry backoff, and the
outcome decisions over the queue interface (a recording fake queue stands for the SQLite
one, as a PostgreSQL queue will)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gateway.notifier import outcome
from gateway.notifier.claim import DAY, day_start
from gateway.notifier.policy import Retry
from gateway.notify.dlr import Outcome
from gateway.store.notifications import FAILED, SENT, Notification, Route
from tests.notify_service.helpers import settings

NOW = 1_000_000.0


def test_backoff_doubles_from_the_delay_up_to_the_cap() -> None:
    r = Retry(delay=10.0, max_delay=100.0, max_attempts=6)
    assert [r.backoff(k) for k in range(1, 7)] == [10.0, 20.0, 40.0, 80.0, 100.0, 100.0]
    assert r.backoff(0) == 10.0                      # never below the first delay
    assert [r.exhausted(k) for k in (0, 5, 6, 7)] == [False, False, True, True]


def test_the_settings_carry_the_retry_rule() -> None:
    assert settings(retry_delay=3.0, retry_max_delay=50.0, max_attempts=4).retry == \
        Retry(delay=3.0, max_delay=50.0, max_attempts=4)


class FakeQueue:
    """Records the decisions; ``notification`` and ``reports`` script what it returns."""

    def __init__(self, notification: Notification, reports: Outcome | None = None):
        self.notification = notification
        self.reports = reports
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kw: Any) -> None:
            self.calls.append((name, kw))
        return record

    def get(self, notification_id: int) -> Notification:
        return self.notification

    def report_outcome(self, notification_id: int) -> Outcome | None:
        return self.reports


RETRY = Retry(delay=10.0, max_delay=1000.0, max_attempts=3)


@pytest.mark.parametrize("attempts_before, state, next_attempt", [
    (0, "retry", NOW + 10.0), (1, "retry", NOW + 20.0), (2, "failed", None)])
def test_a_failed_send_is_retried_by_the_backoff(attempts_before: int, state: str,
                                                 next_attempt: float | None) -> None:
    n = Notification(id=7, device_id="d", attempts=attempts_before)
    q = FakeQueue(n)
    verdict = outcome.record_failure(q, n, ("sip:a@b: 486",), budget_only=False, now=NOW,
                                     retry=RETRY)
    assert verdict.state == state and verdict.reason == "sip:a@b: 486"
    [(call, kw)] = q.calls
    if state == "failed":
        assert call == "mark_failed" and kw["reason"] == "sip:a@b: 486"
    else:
        assert call == "mark_retry" and kw["next_attempt"] == next_attempt
        assert verdict.delay == next_attempt - NOW


def test_a_failed_delivery_report_uses_the_same_backoff() -> None:
    """After the k-th attempt both paths wait ``backoff(k)``: a send that failed on its
    second attempt and an SMS reported undelivered after its second attempt alike."""
    failed = Outcome(state=FAILED, summary="part 1: undelivered", time=NOW)
    sent = Notification(id=7, device_id="d", state=SENT, attempts=2, report_parts=1)
    q = FakeQueue(sent, failed)
    requeued = outcome.settle(q, 7, NOW, RETRY)
    assert requeued == outcome.Requeued(delay=RETRY.backoff(2), report="part 1: undelivered")
    [(call, kw)] = q.calls
    assert call == "settle" and kw["retry_at"] == NOW + RETRY.backoff(2)
    send_q = FakeQueue(replace(sent, state="queued", attempts=1))
    verdict = outcome.record_failure(send_q, send_q.notification, ("x",), budget_only=False,
                                     now=NOW, retry=RETRY)
    assert verdict.delay == requeued.delay
    last = FakeQueue(replace(sent, attempts=3), failed)   # attempts used up: settled failed
    assert outcome.settle(last, 7, NOW, RETRY) is None
    assert last.calls == [("settle", {"now": NOW, "outcome": failed})]


def test_only_the_budget_in_the_way_waits_for_the_next_day() -> None:
    n = Notification(id=1, device_id="d")
    q = FakeQueue(n)
    verdict = outcome.record_failure(q, n, ("modem:+1: daily SMS budget exhausted",),
                                     budget_only=True, now=NOW, retry=RETRY)
    assert verdict.state == "wait"
    [(call, kw)] = q.calls
    assert call == "mark_retry" and kw["next_attempt"] == day_start(NOW) + DAY
    assert kw["count_attempt"] is False


def test_a_send_with_reports_settles_reports_that_came_first() -> None:
    n = Notification(id=3, device_id="d", attempts=0)
    q = FakeQueue(replace(n, state=SENT, attempts=1, report_parts=1),
                  Outcome(state="delivered", summary="part 1: delivered", time=NOW))
    assert outcome.record_sent(q, n, Route(kind="kannel", address="+49"), delivered=False,
                               detail="0: Accepted", report_parts=1, sms_parts=1, now=NOW,
                               retry=RETRY) is None
    assert [c for c, _ in q.calls] == ["mark_sent", "record_send", "settle"]
