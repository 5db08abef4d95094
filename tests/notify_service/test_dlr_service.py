"""Delivery reports in the notification service and its queue (memory clock, scripted
carriers): the report target on the payload, per-part settling, failures re-queued by the
retry policy, forged/unknown/stale reports, reports that beat the send's record, and the
upgrade of a version-1 notification schema."""

from __future__ import annotations

from dataclasses import replace

import pytest
from twisted.internet.task import Clock

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify.dlr import Report, check_token, report_token
from gateway.store.notifications import DELIVERED, FAILED, QUEUED, SENT
from gateway.store.base import StoreError
from gateway.store.sqlite.store import SQLiteStore
from gateway.store.sqlite.notifications import SCHEMA_STEPS, _statements, ensure_schema
from gateway.transport.notify.carriers.base import Sent
from gateway.transport.notify.service import NotifyService
from gateway.config.notify import KannelSettings, PAPSettings
from tests.notify_service.helpers import (FakeCarrier, device, open_store, queue, settings,
                                          sync_run)

BASE = "http://gw.test:8081"
KANNEL = KannelSettings(url="http://127.0.0.1:1/cgi-bin/sendsms", username="u", password="p",
                        dlr=True)


class Harness:
    def __init__(self, tmp_path, carrier, **kw):
        self.clock = Clock()
        self.clock.advance(1_000_000.0)
        self.store = open_store(tmp_path)
        self.carrier = carrier
        kw.setdefault("kannel", KANNEL)
        kw.setdefault("dlr_url_base", BASE)
        self.svc = NotifyService(settings(**kw), server_id="omads-test",
                                 datastores=DEFAULT_DATASTORES, reactor=self.clock,
                                 store=self.store, run=sync_run,
                                 carriers={carrier.kind: carrier})
        queue(self.store, lambda q: q.put_device(device("IMEI:1", f"{carrier.kind}:+4912345")))

    def notify(self):
        nid = queue(self.store, lambda q: q.enqueue(device_id="IMEI:1", datastores=(),
                                                     via=None, now=self.clock.seconds()))[0].id
        self.clock.advance(1.0)
        return nid

    def get(self, nid):
        return queue(self.store, lambda q: q.get(nid))

    def reports_stored(self):
        return queue(self.store, lambda q: q._db.execute(
            "SELECT COUNT(*) FROM notify_reports").fetchone()[0])

    def report(self, nid, part, status, *, attempt=None, token=None, answer="", ts=None):
        attempt = attempt if attempt is not None else self.get(nid).attempts
        secret = queue(self.store, lambda q: q.report_secret())
        r = Report(notification_id=nid, attempt=attempt, part=part, status=status,
                   token=token or report_token(secret, nid, attempt), answer=answer,
                   time=ts)
        out = []
        self.svc.report(r).addCallback(out.append)
        return out[0]


def started_harnesses(tmp_path, **defaults):
    """A factory of started Harnesses (``defaults`` for every one), all stopped after."""
    made = []

    def factory(carrier, **kw):
        h = Harness(tmp_path, carrier, **{**defaults, **kw})
        made.append(h)
        h.svc.startService()
        return h
    yield factory
    for h in made:
        if h.svc.running:
            h.svc.stopService()
        h.store.close()


@pytest.fixture
def make(tmp_path):
    yield from started_harnesses(tmp_path)


def test_payload_carries_a_report_target_for_this_attempt(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=2)], parts=2))
    nid = h.notify()
    [(address, payload)] = h.carrier.sent
    target = payload.reports
    assert address == "+4912345" and target.base == BASE
    assert (target.notification_id, target.attempt) == (nid, 1)
    secret = queue(h.store, lambda q: q.report_secret())
    assert check_token(secret, nid, 1, target.token)
    n = h.get(nid)
    assert n.state == SENT and n.report_parts == 2 and n.report is None


def test_no_target_when_reports_are_off(make):
    h = make(FakeCarrier("kannel"), kannel=replace(KANNEL, dlr=False))
    h.notify()
    assert h.carrier.sent[0][1].reports is None
    h2 = make(FakeCarrier("kannel"), dlr_url_base=None)
    h2.notify()
    assert h2.carrier.sent[0][1].reports is None


def test_parts_settle_delivered_only_when_all_are(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=2)], parts=2))
    nid = h.notify()
    assert h.report(nid, 1, 8, answer="ACK/", ts=1000.0) == (
        200, {"id": nid, "state": SENT, "report": "recorded"})
    n = h.get(nid)
    assert n.state == SENT and n.report_time == 1000.0
    assert n.report == ("part 1/2: accepted by the SMSC (ACK/); part 2/2: no report yet")
    h.report(nid, 1, 1, ts=1001.0)
    h.report(nid, 1, 1, ts=1001.0)          # a repeated report changes nothing
    assert h.get(nid).state == SENT
    code, doc = h.report(nid, 2, 1, ts=1002.0)
    assert code == 200 and doc["state"] == DELIVERED
    n = h.get(nid)
    assert n.state == DELIVERED and n.report_time == 1002.0 and n.attempts == 1
    assert n.report == "part 1/2: delivered to the phone; part 2/2: delivered to the phone"
    assert n.as_dict()["report"] == n.report and n.as_dict()["report_parts"] == 2
    # late intermediate reports do not reopen it
    h.report(nid, 2, 8)
    assert h.get(nid).state == DELIVERED


def test_a_failed_part_requeues_by_the_retry_policy_then_fails(make):
    carrier = FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)] * 3)
    h = make(carrier, max_attempts=2, retry_delay=10.0)
    nid = h.notify()
    code, doc = h.report(nid, 1, 16, answer="NACK/11")
    assert code == 200 and doc["state"] == QUEUED
    n = h.get(nid)
    assert n.state == QUEUED and n.attempts == 1 and n.report_parts == 0
    assert n.reason == "delivery report: rejected by the SMSC (NACK/11)"
    assert n.next_attempt == h.clock.seconds() + 10.0
    h.clock.advance(5.0)
    assert len(carrier.sent) == 1           # not before the retry delay
    h.clock.advance(6.0)
    assert len(carrier.sent) == 2 and carrier.sent[1][1].reports.attempt == 2
    assert h.get(nid).state == SENT
    # a report for the first attempt is stale now: accepted, nothing changes
    assert h.report(nid, 1, 1, attempt=1)[1]["report"] == "stale"
    assert h.get(nid).state == SENT
    code, doc = h.report(nid, 1, 2, answer="expired")
    assert doc["state"] == FAILED
    n = h.get(nid)
    assert n.state == FAILED and n.attempts == 2
    assert n.report == "not delivered to the phone (expired)"
    assert n.reason == "delivery report: not delivered to the phone (expired)"
    h.clock.advance(100.0)
    assert len(carrier.sent) == 2


def test_forged_and_unknown_reports_change_nothing(make):
    h = make(FakeCarrier("kannel", [Sent(detail="ok", report_parts=1)]))
    nid = h.notify()
    before = h.get(nid)
    assert h.report(nid, 1, 1, token="0" * 32) == (403, {"error": "forbidden"})
    other = report_token(b"not the secret", nid, 1)
    assert h.report(nid, 1, 1, token=other)[0] == 403
    secret = queue(h.store, lambda q: q.report_secret())
    wrong_attempt = report_token(secret, nid, 2)
    assert h.report(nid, 1, 1, attempt=1, token=wrong_attempt)[0] == 403
    assert h.get(nid) == before and h.reports_stored() == 0
    assert h.report(nid + 50, 1, 1, attempt=1) == (404, {"error": "no such notification"})
    assert h.reports_stored() == 0
    # a future attempt is stale too
    assert h.report(nid, 1, 1, attempt=3)[1]["report"] == "stale"
    assert h.get(nid) == before and h.reports_stored() == 0


def test_reports_that_come_before_the_send_is_recorded_count(make):
    carrier = FakeCarrier("kannel", ["hang"])
    h = make(carrier)
    nid = h.notify()
    assert h.get(nid).state == QUEUED and len(carrier.pending) == 1
    assert h.report(nid, 1, 8, attempt=1)[1] == {"id": nid, "state": QUEUED,
                                                  "report": "recorded"}
    h.report(nid, 1, 1, attempt=1)
    assert h.get(nid).state == QUEUED
    carrier.pending[0].callback(Sent(detail="ok", report_parts=1))
    n = h.get(nid)
    assert n.state == DELIVERED and n.report == "delivered to the phone"


def test_pap_route_gets_a_target_too(make):
    pap = PAPSettings(url="http://127.0.0.1:1/wap-push.cgi", dlr=True)
    h = make(FakeCarrier("pap", [Sent(detail="PAP 1001", report_parts=1)]), pap=pap,
             kannel=None)
    nid = h.notify()
    assert h.carrier.sent[0][1].reports.notification_id == nid
    h.report(nid, 1, 1)
    assert h.get(nid).state == DELIVERED


def test_secret_is_made_once_and_shared(tmp_path):
    store = open_store(tmp_path)
    try:
        a = queue(store, lambda q: q.report_secret())
        b = queue(store, lambda q: q.report_secret())
        assert a == b and len(a) == 32
    finally:
        store.close()


def test_version_1_tables_upgrade_and_keep_their_rows(tmp_path):
    store = SQLiteStore(tmp_path / "old.sqlite")
    try:
        with store.transaction() as tx:
            conn = tx.connection
            conn.execute("CREATE TABLE notify_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
                         " WITHOUT ROWID")
            for statement in _statements(SCHEMA_STEPS[0]):
                conn.execute(statement)
            conn.execute("INSERT INTO notify_meta VALUES ('schema', 1)")
            conn.execute("INSERT INTO notifications (device_id, state, created, updated,"
                         " next_attempt) VALUES ('IMEI:1', 'sent', 1, 2, 3)")
        assert ensure_schema(store) == 2 == len(SCHEMA_STEPS)
        assert ensure_schema(store) == 2
        n = queue(store, lambda q: q.get(1))
        assert n.state == SENT and n.report_parts == 0 and n.report is None
        with pytest.raises(StoreError, match="duplicate column"):
            with store.transaction() as tx:         # the columns exist exactly once
                tx.connection.execute("ALTER TABLE notifications ADD COLUMN report TEXT")
    finally:
        store.close()


def test_early_report_for_a_send_that_then_failed_is_stale_later(tmp_path):
    store = open_store(tmp_path)
    try:
        n = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via=None, now=1.0))[0]
        secret = queue(store, lambda q: q.report_secret())
        r = Report(notification_id=n.id, attempt=1, part=1, status=1,
                   token=report_token(secret, n.id, 1))
        assert queue(store, lambda q: q.add_report(r, received=2.0)) == "recorded"
        queue(store, lambda q: q.mark_retry(n.id, now=3.0, next_attempt=4.0, reason="x"))
        # attempt 1 is now counted and failed: its reports no longer apply
        assert queue(store, lambda q: q.add_report(r, received=5.0)) == "stale"
        queue(store, lambda q: q.mark_sent(n.id, now=6.0, route="kannel:+1", report_parts=1))
        assert queue(store, lambda q: q.report_outcome(n.id)).state is None
    finally:
        store.close()


def test_report_outcome_is_none_unless_awaiting(tmp_path):
    store = open_store(tmp_path)
    try:
        n = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via=None, now=1.0))[0]
        assert queue(store, lambda q: q.report_outcome(n.id)) is None
        queue(store, lambda q: q.mark_sent(n.id, now=2.0, route="udp:h:1"))
        assert queue(store, lambda q: q.report_outcome(n.id)) is None
        assert queue(store, lambda q: q.report_outcome(999)) is None
    finally:
        store.close()
