"""The delivery-report timeout (``dlr_timeout``) on the memory clock: the poll loop marks
a ``sent`` notification with no final report, keeps its state and never re-sends it; a
report before the timeout wins, one after it still settles; two nodes on one database
settle it once; the key is checked."""

from __future__ import annotations

import io

import pytest

from gateway.config import ConfigError, parse_settings
from gateway.notify import dlr
from gateway.store.notifications import DELIVERED, FAILED, SENT
from gateway.admin.notify import _show
from gateway.transport.notify.carriers.base import Sent
from tests.notify_service.helpers import FakeCarrier, queue
from tests.notify_service.test_dlr_service import started_harnesses

TIMEOUT = 600.0


@pytest.fixture
def make(tmp_path):
    yield from started_harnesses(tmp_path, dlr_timeout=TIMEOUT)


def test_no_report_within_the_timeout_settles_without_a_retry(make):
    carrier = FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)] * 3)
    h = make(carrier)
    nid = h.notify()
    sent_at = h.get(nid).updated
    h.clock.advance(TIMEOUT - 10.0)
    n = h.get(nid)
    assert n.state == SENT and n.report is None
    h.clock.advance(20.0)
    n = h.get(nid)
    assert n.state == SENT and n.report == "no delivery report within 600 s"
    assert n.attempts == 1 and n.updated == sent_at and n.as_dict()["report"] == n.report
    h.clock.advance(50 * TIMEOUT)           # never sent again, the text stays
    assert len(carrier.sent) == 1
    assert h.get(nid) == n


def test_intermediate_reports_show_in_the_timeout_text(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=2)], parts=2))
    nid = h.notify()
    h.report(nid, 1, 8, answer="ACK/", ts=h.clock.seconds())
    h.clock.advance(TIMEOUT + 2.0)
    assert h.get(nid).report == ("no delivery report within 600 s (part 1/2: accepted by the "
                                 "SMSC (ACK/); part 2/2: no report yet)")
    h.report(nid, 2, 4)                     # a late intermediate report keeps the note
    n = h.get(nid)
    assert n.state == SENT and n.report.startswith("no delivery report within 600 s (")
    assert "part 2/2: queued on the SMSC" in n.report


def test_a_report_before_the_timeout_wins(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)]))
    nid = h.notify()
    h.clock.advance(TIMEOUT / 2)
    h.report(nid, 1, 1)
    h.clock.advance(2 * TIMEOUT)
    n = h.get(nid)
    assert n.state == DELIVERED and n.report == "delivered to the phone"
    assert queue(h.store, lambda q: q._db.execute(
        "SELECT COUNT(*) FROM notify_reports WHERE part = 0").fetchone()[0]) == 0


@pytest.mark.parametrize("status, state, text", [
    (1, DELIVERED, "delivered to the phone"),
    (2, FAILED, "not delivered to the phone (late)"),
])
def test_a_late_report_still_settles(make, status, state, text):
    carrier = FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)] * 3)
    h = make(carrier, max_attempts=1)
    nid = h.notify()
    h.clock.advance(TIMEOUT + 5.0)
    assert h.get(nid).report == "no delivery report within 600 s"
    code, doc = h.report(nid, 1, status, answer="late" if status == 2 else "")
    assert code == 200 and doc["state"] == state
    n = h.get(nid)
    assert n.state == state and n.report == text
    h.clock.advance(10 * TIMEOUT)
    assert len(carrier.sent) == 1 and h.get(nid).state == state


def test_a_late_failure_with_attempts_left_requeues_and_the_new_attempt_waits_anew(make):
    carrier = FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)] * 3)
    h = make(carrier, max_attempts=3, retry_delay=10.0)
    nid = h.notify()
    h.clock.advance(TIMEOUT + 5.0)
    h.report(nid, 1, 16, answer="NACK")
    h.clock.advance(11.0)
    n = h.get(nid)
    assert len(carrier.sent) == 2 and n.state == SENT and n.attempts == 2 and n.report is None
    h.clock.advance(TIMEOUT + 5.0)
    assert h.get(nid).report == "no delivery report within 600 s"
    assert len(carrier.sent) == 2


def test_two_nodes_settle_it_once(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)]))
    nid = h.notify()
    later = h.clock.seconds() + TIMEOUT + 1.0

    def expire(q):
        return q.expire_reports(later, timeout=TIMEOUT, limit=10)
    first = queue(h.store, expire)
    second = queue(h.store, expire)
    assert [n.id for n in first] == [nid] and second == []
    assert queue(h.store, lambda q: q._db.execute(
        "SELECT COUNT(*) FROM notify_reports WHERE notification_id = ? AND part = 0",
        (nid,)).fetchone()[0]) == 1


def test_sends_without_reports_are_left_alone(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=0)]))
    nid = h.notify()
    h.clock.advance(3 * TIMEOUT)
    n = h.get(nid)
    assert n.state == SENT and n.report is None


KANNEL = {"url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "u", "password": "p",
          "dlr": True}


def test_the_key_parses_with_a_default():
    doc = {"enabled": True, "admin_listen": ["tcp:8181:interface=127.0.0.1"], "kannel": KANNEL}
    assert parse_settings({"notify": doc}).notify.dlr_timeout == 3600.0
    ns = parse_settings({"notify": dict(doc, dlr_timeout=90)}).notify
    assert ns.dlr_timeout == 90.0


@pytest.mark.parametrize("value", [0, -5, "1h", True])
def test_the_key_is_checked(value):
    doc = {"enabled": True, "admin_listen": ["tcp:8181:interface=127.0.0.1"], "kannel": KANNEL,
           "dlr_timeout": value}
    with pytest.raises(ConfigError, match="dlr_timeout must be a number of seconds > 0"):
        parse_settings({"notify": doc})


def test_the_timeout_shows_in_notify_status(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)]))
    nid = h.notify()
    h.clock.advance(TIMEOUT + 1.0)
    out = io.StringIO()
    _show(h.get(nid), out)
    line = out.getvalue()
    assert f"{nid}\tIMEI:1\tsent\t" in line
    assert "report=- no delivery report within 600 s" in line


def test_outcome_with_a_timeout_mark():
    mark = dlr.timeout_mark(90.0, 5.0)
    assert (mark.part, mark.answer) == (0, "no delivery report within 90 s")
    late = dlr.PartReport(part=1, status=dlr.DLRType.DELIVERED, time=7.0)
    assert dlr.outcome(1, [mark]) == dlr.Outcome(
        state=None, summary="no delivery report within 90 s", time=None)
    assert dlr.outcome(1, [mark, late]) == dlr.Outcome(
        state=DELIVERED, summary="delivered to the phone", time=7.0)
