"""The notification service with scripted carriers on a memory clock: routes in order,
retries with backoff, recorded failures, rate limit, SMS budget, timeouts, monitoring."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.store.base import Account, Device, SyncState
from gateway.store.notifications import DELIVERED, FAILED, QUEUED, SENT
from gateway.transport.notify.carriers.base import Sent
from gateway.notifier.claim import day_start, resolve_routes
from gateway.transport.notify.service import NotifyService
from tests.notify_service.helpers import (FakeCarrier, check_push, check_san, device,
                                          open_store, queue, settings, sync_run)


class Harness:
    def __init__(self, tmp_path, carriers, **kw):
        self.clock = Clock()
        self.clock.advance(1_000_000.0)
        self.store = open_store(tmp_path)
        self.carriers = {c.kind: c for c in carriers}
        self.settings = settings(**kw)
        self.svc = NotifyService(self.settings, server_id="omads-test",
                                 datastores=DEFAULT_DATASTORES, reactor=self.clock,
                                 store=self.store, run=sync_run, carriers=self.carriers)

    def add_device(self, nd):
        queue(self.store, lambda q: q.put_device(nd))

    def enqueue(self, device_id="IMEI:1", datastores=(), via=None):
        return queue(self.store, lambda q: q.enqueue(device_id=device_id, datastores=datastores,
                                                      via=via, now=self.clock.seconds()))[0]

    def get(self, nid):
        return queue(self.store, lambda q: q.get(nid))

    def start(self):
        self.svc.startService()

    def advance(self, seconds, step=1.0):
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            seconds -= step


@pytest.fixture
def make(tmp_path):
    made = []

    def factory(carriers, **kw):
        h = Harness(tmp_path, carriers, **kw)
        made.append(h)
        return h
    yield factory
    for h in made:
        if h.svc.running:
            h.svc.stopService()
        h.store.close()


def test_sends_over_first_route_and_records_state(make):
    udp, sip = FakeCarrier("udp"), FakeCarrier("sip", [Sent(delivered=True, detail="SIP 200")])
    h = make([udp, sip])
    h.add_device(device("IMEI:1", "sip:+49@127.0.0.1:5070", "udp:127.0.0.1:2948"))
    n = h.enqueue(datastores=("contacts", "notes"))
    h.start()
    assert udp.sent == [] and [a for a, _ in sip.sent] == ["sip:+49@127.0.0.1:5070"]
    payload = sip.sent[0][1]
    check_san(payload.san, datastores=("contacts", "notes"), session_id=n.id)
    assert check_push(payload.push) == payload.san
    got = h.get(n.id)
    assert got.state == DELIVERED and got.route == "sip:+49@127.0.0.1:5070"
    assert got.attempts == 1 and got.reason == "SIP 200"


def test_falls_back_to_next_route(make):
    sip, udp = FakeCarrier("sip", ["SIP 486 Busy Here"]), FakeCarrier("udp")
    h = make([sip, udp])
    h.add_device(device("IMEI:1", "sip:+49@127.0.0.1", "udp:127.0.0.1:2948"))
    n = h.enqueue()
    h.start()
    got = h.get(n.id)
    assert got.state == SENT and got.route == "udp:127.0.0.1:2948"
    check_san(udp.sent[0][1].san, datastores=tuple(ds.name for ds in DEFAULT_DATASTORES))


def test_retries_with_backoff_then_fails_with_reason(make):
    modem = FakeCarrier("modem", ["modem: +CMS ERROR: 500"] * 5)
    h = make([modem], retry_delay=10.0, max_attempts=3)
    h.add_device(device("IMEI:1", "modem:+4912345678"))
    n = h.enqueue()
    h.start()
    first = h.get(n.id)
    assert first.state == QUEUED and first.attempts == 1 and "+CMS ERROR: 500" in first.reason
    assert first.next_attempt == pytest.approx(h.clock.seconds() + 10.0)
    h.advance(9)
    assert len(modem.sent) == 1
    h.advance(2)
    second = h.get(n.id)
    assert len(modem.sent) == 2 and second.attempts == 2
    assert second.next_attempt - second.updated == pytest.approx(20.0)   # doubled
    h.advance(21)
    last = h.get(n.id)
    assert len(modem.sent) == 3 and last.state == FAILED and last.attempts == 3
    assert last.reason == "modem:+4912345678: modem: +CMS ERROR: 500"
    h.advance(100)
    assert len(modem.sent) == 3


def test_a_hanging_carrier_times_out_and_the_queue_moves_on(make):
    kannel = FakeCarrier("kannel", ["hang", "hang"])
    udp = FakeCarrier("udp")
    h = make([kannel, udp], send_timeout=5.0, max_attempts=2, retry_delay=1.0)
    h.add_device(device("IMEI:1", "kannel:+4912345678"))
    h.add_device(device("IMEI:2", "udp:127.0.0.1:2948"))
    stuck = h.enqueue("IMEI:1")
    h.start()
    other = h.enqueue("IMEI:2")
    h.advance(1)
    assert h.get(other.id).state == SENT           # not blocked by the hanging send
    h.advance(5)
    got = h.get(stuck.id)
    assert got.state == QUEUED and got.attempts == 1 and "no outcome within 5 s" in got.reason
    h.advance(10)
    got = h.get(stuck.id)
    assert got.state == FAILED and got.attempts == 2
    assert all(d.called for d in kannel.pending)   # both sends were cancelled


def test_no_route_and_unknown_carrier_and_bad_datastore(make):
    udp = FakeCarrier("udp")
    h = make([udp], max_attempts=1)
    h.add_device(device("IMEI:2", "pap:+4912345678"))
    h.add_device(device("IMEI:3", "udp:127.0.0.1:2948"))
    a = h.enqueue("IMEI:unknown")
    b = h.enqueue("IMEI:2")
    c = h.enqueue("IMEI:3", datastores=("nonsense",))
    h.start()
    assert h.get(a.id).state == FAILED and "no route" in h.get(a.id).reason
    assert h.get(b.id).state == FAILED and "no [notify.pap] carrier" in h.get(b.id).reason
    assert h.get(c.id).state == FAILED and "unknown datastore" in h.get(c.id).reason
    assert udp.sent == []


def test_via_ad_hoc_and_by_kind(make):
    udp, kannel = FakeCarrier("udp"), FakeCarrier("kannel")
    h = make([udp, kannel])
    h.add_device(device("IMEI:1", "modem:+4912345678", "udp:10.0.0.1:2948"))
    a = h.enqueue(via="udp:127.0.0.1:9999")
    b = h.enqueue(via="kannel")           # the device's MSISDN, on the kannel carrier
    h.start()
    assert [x for x, _ in udp.sent] == ["127.0.0.1:9999"]
    assert [x for x, _ in kannel.sent] == ["+4912345678"]
    assert h.get(a.id).state == SENT and h.get(b.id).route == "kannel:+4912345678"


def test_resolve_routes():
    nd = device("d", "sip:a@b", "pap:+491", "udp:1.2.3.4:5")
    assert [str(r) for r in resolve_routes(None, nd)] == ["sip:a@b", "pap:+491", "udp:1.2.3.4:5"]
    assert [str(r) for r in resolve_routes("modem", nd)] == ["modem:+491"]
    assert [str(r) for r in resolve_routes("udp", nd)] == ["udp:1.2.3.4:5"]
    assert resolve_routes("sip", device("d", "udp:1.2.3.4:5")) == ()
    assert resolve_routes(None, None) == ()


def test_device_rate_limit_defers_without_counting_an_attempt(make):
    udp = FakeCarrier("udp")
    h = make([udp], device_max_per_hour=2)
    h.add_device(device("IMEI:1", "udp:127.0.0.1:2948"))
    h.start()
    ids = []
    for _ in range(3):
        ids.append(h.enqueue().id)
        h.advance(1)
    assert len(udp.sent) == 2
    third = h.get(ids[2])
    assert third.state == QUEUED and third.attempts == 0 and "rate limit" in third.reason
    first_send = h.get(ids[0]).updated
    assert third.next_attempt == pytest.approx(first_send + 3600)
    h.advance(3600, step=60)
    assert len(udp.sent) == 3 and h.get(ids[2]).state == SENT


def test_daily_sms_budget_skips_sms_then_waits_for_next_day(make):
    modem, udp = FakeCarrier("modem", parts=2), FakeCarrier("udp")
    h = make([modem, udp], daily_sms_budget=3, device_max_per_hour=100)
    h.add_device(device("IMEI:1", "modem:+4912345678", "udp:127.0.0.1:2948"))
    h.add_device(device("IMEI:2", "modem:+4912345679"))
    h.start()
    a = h.enqueue("IMEI:1")
    h.advance(1)
    b = h.enqueue("IMEI:1", datastores=("notes",))
    h.advance(1)
    c = h.enqueue("IMEI:2")
    h.advance(1)
    assert h.get(a.id).route == "modem:+4912345678"
    assert h.get(b.id).route == "udp:127.0.0.1:2948"      # budget left 1 < 2 parts
    waiting = h.get(c.id)
    assert waiting.state == QUEUED and waiting.attempts == 0
    assert "budget" in waiting.reason
    assert waiting.next_attempt == day_start(h.clock.seconds()) + 86400
    assert len(modem.sent) == 1


def test_monitor_queues_for_server_side_changes_only(make):
    udp = FakeCarrier("udp")
    h = make([udp], monitor_interval=30.0, monitor_datastores=("contacts",))
    h.add_device(device("IMEI:1", "udp:127.0.0.1:2948"))
    with h.store.transaction() as tx:
        tx.put_account(Account(username="u", secret="x"))
        tx.put_device(Device(device_id="IMEI:1", username="u"))
        item = tx.add_item("u", "contacts", data=b"BEGIN:VCARD", content_type="text/vcard")
        tx.put_sync_state(SyncState(device_id="IMEI:1", username="u", datastore="contacts",
                                    synced_rev=item.rev))
    h.start()
    h.advance(31)
    assert udp.sent == []                          # nothing new since its sync
    with h.store.transaction() as tx:              # the device's own change: no news
        tx.add_item("u", "contacts", data=b"x", content_type="text/vcard", changed_by="IMEI:1")
    h.advance(31)
    assert udp.sent == []
    with h.store.transaction() as tx:              # a change from elsewhere
        tx.add_item("u", "contacts", data=b"y", content_type="text/vcard", changed_by="web")
        tx.add_item("u", "notes", data=b"z", content_type="text/plain", changed_by="web")
    h.advance(31)
    assert len(udp.sent) == 1
    check_san(udp.sent[0][1].san, datastores=("contacts",))
    h.advance(31)
    assert len(udp.sent) == 1                      # the watermark keeps it from repeating
    rows = queue(h.store, lambda q: q.list())
    assert [r.origin for r in rows] == ["monitor"]


def test_stop_cancels_inflight_and_stops_carriers(make):
    kannel = FakeCarrier("kannel", ["hang"])
    h = make([kannel])
    h.add_device(device("IMEI:1", "kannel:+4912345678"))
    n = h.enqueue()
    h.start()
    assert len(kannel.pending) == 1
    h.svc.stopService()
    assert kannel.pending[0].called and kannel.stopped
    assert h.get(n.id).state == QUEUED           # another node (or a restart) retries it
