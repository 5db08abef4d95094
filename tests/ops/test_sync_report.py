"""The engine's summary of a sync counts items, not commands or chunks: refused items
appear with their status, chunked items count once; the session history is written in
the message's transaction (gateway/ds/server/journal.py)."""

from __future__ import annotations

import time

import pytest

from gateway.ds.server.handler import SyncServer
from gateway.ds.server.journal import Journal
from gateway.ds.settings import DatastoreSettings, ServerSettings
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.ops import ops_store
from gateway.store.sqlite.store import SQLiteStore
from tests.ds.simclient import SimClient, vcard


@pytest.fixture
def store(tmp_path):
    st = SQLiteStore(tmp_path / "gw.db")
    with st.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    ops_store(st).ensure_schema()
    yield st
    st.close()


def server(store, events, **kw):
    ops = ops_store(store)
    return SyncServer(ServerSettings(**kw), store,
                      log=lambda event, **f: events.append((event, f)),
                      journal=Journal(ops=ops.on))


def finished(events, name="datastore finished"):
    return [f for e, f in events if e == name]


def test_items_refused_with_415_are_counted_as_refused_not_as_done(store):
    events: list = []
    only_21 = (DatastoreSettings(name="contacts", content_types=(("text/x-vcard", "2.1"),)),)
    c = SimClient(server(store, events, datastores=only_21))
    c.sync(201, send_all=False)
    events.clear()
    mode, statuses = c.sync(200, adds=[(f"L{i}", vcard(i)) for i in range(3)])
    assert [s.data for s in statuses if s.cmd == "Add"] == [415, 415, 415]
    [ds] = finished(events)
    assert {k: v for k, v in ds["stats"].items() if k != "bytes_in"} == {"refused_in.415": 3}
    assert ds["add_in"] == 0 and ds["refused_in"] == "415x3" and ds["result"] == "partial"
    [sess] = finished(events, "session finished")
    assert sess["result"] == "partial" and sess["messages"] >= 2
    with ops_store(store).transaction() as (_tx, ops):
        [last] = ops.last_results("sim-device")
        s = ops.session_by_key(ds["session"])
    assert last.counts["refused_in.415"] == 3 and last.result == "partial"
    assert s.state == "partial" and s.bytes_in > 0 and s.bytes_out > 0


def test_chunked_items_count_once_each_way(store):
    events: list = []
    big = [vcard(i, extra="NOTE:" + "x" * 6000 + "\r\n") for i in range(4)]
    with store.transaction() as tx:
        for data in big:
            tx.add_item("alice", "contacts", data=data.encode(), content_type="text/vcard",
                        now=time.time())
    c = SimClient(server(store, events), max_msg_size=4000, large_objs=True)
    mode, statuses = c.sync(201, send_all=False)
    assert len(c.items) == 4
    chunk_statuses = sum(1 for x in c.log for cmd in x.request.commands
                         if getattr(cmd, "data", None) == 213)
    assert chunk_statuses > 4          # there were chunks ...
    [ds] = finished(events)
    assert ds["stats"]["out.add"] == 4  # ... and four items
    assert ds["add_out"] == 4 and ds["refused_out"] == "none" and ds["result"] == "ok"
    assert ds["bytes_out"] >= sum(len(b) for b in big)
    assert ds["mode"] == "slow" and ds["slow_reason"] == "requested"


def test_conflicts_and_each_way_counts(store):
    events: list = []
    c = SimClient(server(store, events))
    c.items.update({"L1": vcard(1), "L2": vcard(2)})
    c.sync(201)
    [ds] = finished(events)
    assert ds["add_in"] == 2 and ds["mode"] == "slow"
    events.clear()
    mode, _ = c.sync(200, adds=[("L3", vcard(3))], replaces=[("L1", vcard(1, tel="+49 1"))],
                     deletes=["L2"])
    [ds] = finished(events)
    assert (ds["add_in"], ds["replace_in"], ds["delete_in"]) == (1, 1, 1)
    assert ds["slow_reason"] is None and ds["mode"] == "two-way"


def test_refused_login_names_the_account_and_the_reason(store):
    events: list = []
    c = SimClient(server(store, events), password="wrong", auth="basic")
    c.sync(200)
    auth = [f for e, f in events if e == "authentication"][0]
    assert auth["status"] == 401 and auth["account"] == "alice"
    assert auth["reason"] == "wrong password" and auth["scheme"] == "basic"
    events.clear()
    SimClient(server(store, events), user="nobody", auth="basic", device_id="d2").sync(200)
    auth = [f for e, f in events if e == "authentication"][0]
    assert auth["account"] == "nobody" and auth["reason"] == "no account 'nobody'"
    with ops_store(store).transaction() as (_tx, ops):
        sessions = ops.list_sessions(device_id="d2")
        assert sessions and all(s.detail == "no account 'nobody'" and s.state == "live"
                                for s in sessions)
        expired = ops.expire_sessions(max(s.expires for s in sessions) + 1)
    # both refused sessions (alice's wrong password, nobody's) end as auth_failed
    assert {s.device_id for s in expired} == {"sim-device", "d2"}
    assert {s.state for s in expired} == {"auth_failed"}


def test_a_slow_sync_that_pairs_counts_unchanged_not_added(store):
    events: list = []
    c = SimClient(server(store, events))
    c.items.update({"L1": vcard(1), "L2": vcard(2)})
    c.sync(201)
    events.clear()
    c.sync(201)                       # the same two items again: paired, nothing written
    [ds] = finished(events)
    assert (ds["add_in"], ds["replace_in"], ds["unchanged_in"]) == (0, 0, 2)
    with store.transaction() as tx:
        assert tx.count_items("alice", "contacts") == 2
