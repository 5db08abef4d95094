"""The SQLite notification queue: folding, claims with leases, outcomes, limits, devices."""

from __future__ import annotations

import pytest

from gateway.store.base import StoreError
from gateway.store.notifications import (DELIVERED, FAILED, QUEUED, SENT, NotifyDevice, Route,
                                         merge_datastores, parse_route)
from gateway.store.sqlite.store import SQLiteStore
from gateway.store.sqlite.notifications import SCHEMA_STEPS, SQLiteNotifications, ensure_schema
from tests.notify_service.helpers import device, open_store, queue


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def test_schema_is_idempotent_and_versioned(tmp_path):
    store = SQLiteStore(tmp_path / "db.sqlite")
    assert ensure_schema(store) == len(SCHEMA_STEPS)
    assert ensure_schema(store) == len(SCHEMA_STEPS)
    with store.transaction() as tx:
        conn = tx._conn
        assert conn.execute("SELECT value FROM notify_meta WHERE key='schema'").fetchone()[0] \
            == len(SCHEMA_STEPS)
        conn.execute("UPDATE notify_meta SET value = 99 WHERE key = 'schema'")
    with pytest.raises(StoreError, match="newer"):
        ensure_schema(store)
    store.close()


def test_enqueue_folds_duplicates_per_device_and_via(store):
    n1, new1 = queue(store, lambda q: q.enqueue(device_id="d", datastores=("contacts",),
                                                 via=None, now=10.0))
    n2, new2 = queue(store, lambda q: q.enqueue(device_id="d", datastores=("calendar",),
                                                 via=None, now=11.0))
    n3, new3 = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via="udp",
                                                 now=12.0))
    n4, new4 = queue(store, lambda q: q.enqueue(device_id="e", datastores=("notes",),
                                                 via=None, now=13.0))
    assert (new1, new2, new3, new4) == (True, False, True, True)
    assert n2.id == n1.id and n2.datastores == ("calendar", "contacts")
    assert n3.id != n1.id and n4.id not in (n1.id, n3.id)
    # "all datastores" absorbs a list
    n5, new5 = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via=None, now=14))
    assert not new5 and n5.id == n1.id and n5.datastores == ()


def test_merge_datastores():
    assert merge_datastores(("a",), ("b", "a")) == ("a", "b")
    assert merge_datastores((), ("b",)) == ()


def test_claim_leases_and_expired_lease_is_taken_over(store):
    n, _ = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via=None, now=0.0))
    first = queue(store, lambda q: q.claim_due(1.0, owner="a", lease=60, limit=10))
    assert [x.id for x in first] == [n.id]
    assert queue(store, lambda q: q.claim_due(2.0, owner="b", lease=60, limit=10)) == []
    # a claimed row does not take new requests: they make a new row
    n2, new = queue(store, lambda q: q.enqueue(device_id="d", datastores=(), via=None, now=3))
    assert new and n2.id != n.id
    # node a died: after the lease, node b takes it
    again = queue(store, lambda q: q.claim_due(62.0, owner="b", lease=60, limit=10))
    assert {x.id for x in again} == {n.id, n2.id}


def test_outcomes_and_retry(store):
    ids = [queue(store, lambda q, i=i: q.enqueue(device_id=f"d{i}", datastores=(), via=None,
                                                  now=0.0))[0].id for i in range(4)]
    queue(store, lambda q: q.claim_due(1.0, owner="a", lease=60, limit=10))
    queue(store, lambda q: q.mark_sent(ids[0], now=2, route="udp:1.2.3.4:2948"))
    queue(store, lambda q: q.mark_sent(ids[1], now=2, route="sip:x@y", delivered=True,
                                       detail="SIP 200 OK"))
    queue(store, lambda q: q.mark_failed(ids[2], now=2, reason="boom"))
    retried = queue(store, lambda q: q.mark_retry(ids[3], now=2, next_attempt=50,
                                                  reason="later"))
    got = {i: queue(store, lambda q, i=i: q.get(i)) for i in ids}
    assert [got[i].state for i in ids] == [SENT, DELIVERED, FAILED, QUEUED]
    assert got[1 if False else ids[1]].reason == "SIP 200 OK"
    assert got[ids[2]].reason == "boom" and got[ids[2]].attempts == 1
    assert retried.attempts == 1 and retried.next_attempt == 50
    assert queue(store, lambda q: q.claim_due(49.0, owner="a", lease=60, limit=10)) == []
    assert [x.id for x in queue(store, lambda q: q.claim_due(50.0, owner="a", lease=60,
                                                            limit=10))] == [ids[3]]
    with pytest.raises(StoreError):
        queue(store, lambda q: q.mark_sent(9999, now=1, route="udp"))
    listed = queue(store, lambda q: q.list(limit=10))
    assert [x.id for x in listed] == sorted(ids, reverse=True)
    assert got[ids[0]].done and not retried.done


def test_send_counters(store):
    queue(store, lambda q: q.record_send(device_id="d", kind="modem", sms_parts=2, now=100))
    queue(store, lambda q: q.record_send(device_id="d", kind="udp", sms_parts=0, now=200))
    queue(store, lambda q: q.record_send(device_id="e", kind="kannel", sms_parts=3, now=300))
    assert queue(store, lambda q: q.count_sends(since=150, device_id="d")) == 1
    assert queue(store, lambda q: q.count_sends(since=0)) == 3
    assert queue(store, lambda q: q.first_send_since(since=50, device_id="d")) == 100
    assert queue(store, lambda q: q.first_send_since(since=500, device_id="d")) is None
    assert queue(store, lambda q: q.sms_parts_since(0)) == 5
    assert queue(store, lambda q: q.sms_parts_since(250)) == 3


def test_devices_and_watermarks(store):
    nd = device("IMEI:9", "sip:+49@127.0.0.1:5070", "modem:+4912345678", "udp:10.0.0.1:2948",
                form="1.1")
    queue(store, lambda q: q.put_device(nd))
    assert queue(store, lambda q: q.get_device("IMEI:9")) == nd
    assert queue(store, lambda q: q.list_device_ids()) == ["IMEI:9"]
    assert "s3cret" not in repr(nd)
    assert queue(store, lambda q: q.get_watermark("IMEI:9", "u", "contacts")) == 0
    queue(store, lambda q: q.set_watermark("IMEI:9", "u", "contacts", 7))
    queue(store, lambda q: q.set_watermark("IMEI:9", "u", "contacts", 9))
    assert queue(store, lambda q: q.get_watermark("IMEI:9", "u", "contacts")) == 9


def test_rollback_takes_queue_rows_with_it(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            SQLiteNotifications(tx).enqueue(device_id="d", datastores=(), via=None, now=0)
            raise RuntimeError("abort")
    assert queue(store, lambda q: q.list()) == []


@pytest.mark.parametrize("text,route", [
    ("modem:+4912345678", Route(kind="modem", address="+4912345678")),
    ("kannel:4912345678", Route(kind="kannel", address="4912345678")),
    ("sip:+49123@ims.example:5070", Route(kind="sip", address="sip:+49123@ims.example:5070")),
    ("udp:127.0.0.1:2948", Route(kind="udp", address="127.0.0.1:2948")),
    ("udp:[::1]:2948", Route(kind="udp", address="[::1]:2948")),
])
def test_parse_route(text, route):
    assert parse_route(text) == route
    assert str(parse_route(text)) == text


@pytest.mark.parametrize("text", ["modem", "fax:123", "modem:abc", "udp:host", "udp:h:99999",
                                  "sip:", "sip:a b@c"])
def test_parse_route_refuses(text):
    with pytest.raises(ValueError):
        parse_route(text)


def test_bare_kinds_only_when_asked():
    assert parse_route("pap", bare=True) == Route(kind="pap")
    with pytest.raises(ValueError):
        NotifyDevice(device_id="x", form="2.0")
