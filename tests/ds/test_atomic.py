"""Atomic inside a Sync, on the SQLite store: all children or none (gateway/ds/atomic.py)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.ds.server.handler import SyncServer
from gateway.ds.settings import DEFAULT_DATASTORES, ServerSettings
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.sqlite.store import SQLiteStore
from gateway.syncml import codec
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import (
    Add, Alert, Atomic, Delete, Item, Location, Move, Put, Replace, Sequence, Status, Sync,
)
from gateway.store.memory import FailingStore
from tests.ds.simclient import VCARD, SimClient, status_codes, vcard
from tests.ds.test_sync_flow import server_change, server_items

ENCODINGS = [codec.XML, codec.WBXML]


def _open(tmp: Path) -> SQLiteStore:
    st = SQLiteStore(tmp / "gw.db")
    with st.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    return st


@pytest.fixture
def store(tmp_path):
    """The real SQLite store only (overrides the fake/SQLite pair of conftest.py)."""
    st = _open(tmp_path)
    yield st
    st.close()


def _server(store, **kw) -> SyncServer:
    n = iter(range(1, 1_000_000))
    return SyncServer(ServerSettings(**kw), store,
                      random_bytes=lambda k: (next(n).to_bytes(4, "big") * k)[:k])


# -- commands --------------------------------------------------------------------------
def add(luid, data=None, ct=VCARD, **item):
    return Add(meta=Meta(type=ct), items=(Item(source=Location(loc_uri=luid),
                                               data=data or vcard(hash(luid) % 1000), **item),))


def bad_type(luid):
    return add(luid, "not a vcard", ct="image/png")                  # 415


def replace_(luid, data):
    return Replace(meta=Meta(type=VCARD), items=(Item(source=Location(loc_uri=luid),
                                                      data=data),))


def delete(luid):
    return Delete(items=(Item(source=Location(loc_uri=luid)),))


def move(luid):
    return Move(items=(Item(source=Location(loc_uri=luid)),))


def numbered(cmd, ids):
    """Give ``cmd`` and everything inside it CmdIDs from ``ids`` (SimClient numbers only
    the top level and a Sync's children; those get replaced, ours stay unique)."""
    inner = getattr(cmd, "commands", None)
    cmd = replace(cmd, cmd_id=str(next(ids)))
    if inner is not None:
        cmd = replace(cmd, commands=tuple(numbered(c, ids) for c in inner))
    return cmd


def atomic(*children, ids=None):
    return numbered(Atomic(commands=children), ids or iter(range(100, 1000)))


# -- a session ---------------------------------------------------------------------------
def first_sync(server, items, encoding=codec.XML) -> SimClient:
    c = SimClient(server, encoding=encoding)
    c.items = dict(items)
    mode, _ = c.sync(201)
    assert mode == 201
    return c


def sync_with(c: SimClient, commands) -> dict[str, list[int]]:
    """One two-way session whose client package is ``commands``; the statuses the
    server gave them, by CmdID (the session is then run to its end)."""
    c.session, c.msg_id = None, 0
    c.session_id += 1
    anchor = f"A{c.session_id:04d}"
    reply = c.send([Put(meta=Meta(type=codec.DEVINF_XML), items=(Item(
        source=Location(loc_uri="./devinf12"), data=c.devinf()),)),
        Alert(data=200, items=(Item(target=Location(loc_uri=c.server_ds),
                                    source=Location(loc_uri=c.ds_uri),
                                    meta=Meta(anchor=Anchor(last=c.last_anchor, next=anchor))),))],
        with_cred=True)
    assert any(isinstance(x, Alert) and x.data == 200 for x in reply.commands)
    sync = Sync(target=Location(loc_uri=c.server_ds), source=Location(loc_uri=c.ds_uri),
                commands=tuple(commands))
    reply = c.send(c.statuses_for(reply) + [sync], final=True)
    msg_id = c.log[-1].request.header.msg_id
    codes: dict[str, list[int]] = {}
    for s in reply.commands:
        if isinstance(s, Status) and s.msg_ref == msg_id:
            codes.setdefault(s.cmd_ref, []).append(s.data)
    sent = next(x for x in c.log[-1].request.commands if isinstance(x, Sync))
    for mine, theirs in zip(commands, sent.commands):   # SimClient renumbered these
        if mine.cmd_id and theirs.cmd_id in codes:
            codes[mine.cmd_id] = codes.pop(theirs.cmd_id)
    c.last_items_reply = reply
    c.receive(reply)
    c.last_anchor = anchor
    return codes


def snapshot(store, ds="contacts"):
    items = server_items(store, ds=ds)
    with store.transaction() as tx:
        return items, tx.get_map("sim-device", "alice", ds), tx.current_rev("alice", ds)


def ids_of(cmd) -> list[str]:
    return [c.cmd_id for c in cmd.commands]


# -- tests -------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_atomic_of_three_adds_applies_all(store, encoding):
    c = first_sync(_server(store), {"c1": vcard(1)}, encoding)
    at = atomic(add("a1", vcard(11)), add("a2", vcard(12)), add("a3", vcard(13)))
    codes = sync_with(c, [at])
    assert codes[at.cmd_id] == [200]
    assert [codes[i] for i in ids_of(at)] == [[201], [201], [201]]
    items, mapping, _ = snapshot(store)
    assert len(items) == 4
    assert set(mapping) == {"c1", "a1", "a2", "a3"}
    assert set(mapping.values()) == set(items)
    assert "Family000012" in items[mapping["a2"]]
    assert set(c.items) == {"c1"}                 # nothing of its own came back


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("bad,code", [
    (bad_type("b2"), 415),
    (add("b2", "BEGIN:VCARD\r\nNOTE:" + "x" * 400 + "\r\nEND:VCARD\r\n"), 413),
    (move("never-seen"), 404),
])
def test_failing_child_rolls_back_the_others(store, encoding, bad, code):
    c = first_sync(_server(store, max_obj_size=300), {"c1": vcard(1)}, encoding)
    before = snapshot(store)
    at = atomic(add("a1", vcard(11)), bad, add("a3", vcard(13)))
    codes = sync_with(c, [at])
    assert codes[at.cmd_id] == [507]
    first, failing, after = ids_of(at)
    assert codes[first] == [216]
    assert codes[failing] == [code]
    assert codes[after] == [215]
    assert snapshot(store) == before              # nothing stored, no map entry, no rev
    assert set(c.items) == {"c1"}
    assert not any("Family000011" in d for d in c.items.values())
    # the next session sends nothing for those LUIDs either
    c.sync(200)
    assert set(c.items) == {"c1"} and snapshot(store)[0] == before[0]


def test_delete_then_failing_add_leaves_the_item_without_tombstone(store):
    c = first_sync(_server(store), {"c1": vcard(1), "c2": vcard(2)})
    items, mapping, rev = snapshot(store)
    at = atomic(delete("c1"), bad_type("x"))
    codes = sync_with(c, [at])
    assert codes[at.cmd_id] == [507]
    assert [codes[i] for i in ids_of(at)] == [[216], [415]]
    assert snapshot(store) == (items, mapping, rev)
    with store.transaction() as tx:
        assert tx.changes_since("alice", "contacts", rev) == []
        assert tx.get_item("alice", "contacts", mapping["c1"]) is not None


def test_commands_after_a_failed_atomic_still_apply(store):
    c = first_sync(_server(store), {"c1": vcard(1)})
    at = atomic(add("a1", vcard(11)), bad_type("a2"))
    after = numbered(add("n1", vcard(21)), iter([900]))
    codes = sync_with(c, [at, after])
    assert codes[at.cmd_id] == [507]
    assert codes["900"] == [201]
    items, mapping, _ = snapshot(store)
    assert set(mapping) == {"c1", "n1"}
    assert "Family000021" in items[mapping["n1"]]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_nested_atomic_is_refused(store, encoding):
    c = first_sync(_server(store), {"c1": vcard(1)}, encoding)
    before = snapshot(store)
    at = atomic(add("a1", vcard(11)), Atomic(commands=(add("a2", vcard(12)),)),
                add("a3", vcard(13)))
    codes = sync_with(c, [at])
    first, nested, last = at.commands
    assert codes[at.cmd_id] == [507]
    assert codes[first.cmd_id] == [216]
    assert codes[nested.cmd_id] == [500]
    assert codes[nested.commands[0].cmd_id] == [215]      # never run
    assert codes[last.cmd_id] == [215]
    assert snapshot(store) == before


def test_sequence_inside_atomic_rolls_back_with_it(store):
    c = first_sync(_server(store), {"c1": vcard(1)})
    before = snapshot(store)
    at = atomic(Sequence(commands=(add("a1", vcard(11)), add("a2", vcard(12)))),
                bad_type("a3"))
    codes = sync_with(c, [at])
    seq = at.commands[0]
    assert codes[at.cmd_id] == [507]
    assert codes[seq.cmd_id] == [216]
    assert [codes[i] for i in ids_of(seq)] == [[216], [216]]
    assert snapshot(store) == before


def test_chunked_item_inside_atomic_is_refused_and_leaves_no_buffer(store):
    c = first_sync(_server(store), {"c1": vcard(1)})
    before = snapshot(store)
    chunk = Add(meta=Meta(type=VCARD, size=500), items=(Item(
        source=Location(loc_uri="big"), data="BEGIN:VCARD\r\n", more_data=True),))
    at = atomic(add("a1", vcard(11)), chunk)
    codes = sync_with(c, [at])
    assert codes[at.cmd_id] == [507]
    assert [codes[i] for i in ids_of(at)] == [[216], [406]]
    assert snapshot(store) == before
    # no object left half received: the final message got no Alert 223 for it
    assert not any(isinstance(x, Alert) and x.data == 223 for x in c.last_items_reply.commands)


@pytest.mark.parametrize("policy,code", [("client-wins", 208), ("duplicate", 209)])
def test_conflict_bookkeeping_is_rolled_back(store, policy, code):
    stores = tuple(replace(d, conflict_policy=policy) for d in DEFAULT_DATASTORES)
    c = first_sync(_server(store, datastores=stores), {"c1": vcard(1), "c2": vcard(2)})
    guid = snapshot(store)[1]["c1"]
    server_change(store, "replace", guid, vcard(1, tel="+server"))
    before = snapshot(store)
    at = atomic(replace_("c1", vcard(1, tel="+client")), bad_type("x"))
    codes = sync_with(c, [at])
    assert [codes[i] for i in ids_of(at)] == [[216], [415]]
    assert snapshot(store) == before
    # The Replace was undone: the server's version goes to the client, once (no item the
    # rolled-back "received" or "send back" lists would have added or held back).
    ones = [d for d in c.items.values() if "Family000001" in d]
    assert len(ones) == 1 and "+server" in ones[0]
    assert len(c.items) == 2


def test_move_of_unknown_luid_is_404_and_known_is_200(store):
    c = first_sync(_server(store), {"c1": vcard(1)})
    known, unknown = numbered(move("c1"), iter([800])), numbered(move("nope"), iter([801]))
    codes = sync_with(c, [known, unknown])
    assert codes["800"] == [200] and codes["801"] == [404]


def test_no_resp_atomic_still_rolls_back(store):
    c = first_sync(_server(store), {"c1": vcard(1)})
    before = snapshot(store)
    at = replace(atomic(add("a1", vcard(11)), bad_type("a2")), no_resp=True)
    codes = sync_with(c, [at])
    assert at.cmd_id not in codes
    assert [codes[i] for i in ids_of(at)] == [[216], [415]]
    assert snapshot(store) == before


# -- property: the store changes iff no child failed --------------------------------------
GOOD = {"add": lambda n: add(f"p{n}", vcard(500 + n)),
        "replace": lambda n: replace_("c1", vcard(1, tel=f"+{n}")),
        "delete": lambda n: delete("c2")}
BAD = {"type": (lambda n: bad_type(f"q{n}"), 415),
       "move": (lambda n: move(f"none{n}"), 404)}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(sorted(GOOD)), st.sampled_from(sorted(BAD))),
                min_size=1, max_size=5))
def test_store_unchanged_iff_a_child_failed(kinds):
    with tempfile.TemporaryDirectory() as tmp:
        store = _open(Path(tmp))
        try:
            c = first_sync(_server(store), {"c1": vcard(1), "c2": vcard(2)})
            before = snapshot(store)
            children = [GOOD[k](n) if k in GOOD else BAD[k][0](n) for n, k in enumerate(kinds)]
            at = atomic(*children)
            codes = sync_with(c, [at])
            bad_at = next((n for n, k in enumerate(kinds) if k in BAD), None)
            if bad_at is None:
                assert codes[at.cmd_id] == [200]
                assert snapshot(store)[2] > before[2]
                assert all(codes[i][0] in (200, 201, 211) for i in ids_of(at))
            else:
                assert codes[at.cmd_id] == [507]
                assert snapshot(store) == before
                got = [codes[i][0] for i in ids_of(at)]
                assert got[:bad_at] == [216] * bad_at
                assert got[bad_at] == BAD[kinds[bad_at]][1]
                assert got[bad_at + 1:] == [215] * (len(kinds) - bad_at - 1)
        finally:
            store.close()


def test_id_map_cache_is_rolled_back_too(store):
    """A LUID the rolled-back Atomic mapped is unknown again for the rest of the message
    (SQLite may give the undone row id to the next item: a stale cached mapping would
    then point at that one)."""
    c = first_sync(_server(store), {"c1": vcard(1)})
    at = atomic(add("a1", vcard(11)), bad_type("a2"))
    later = [numbered(add("n1", vcard(21)), iter([900])),
             numbered(replace_("a1", vcard(11, tel="+again")), iter([901]))]
    codes = sync_with(c, [at, *later])
    assert codes["900"] == [201] and codes["901"] == [201]    # a1 is new again
    items, mapping, _ = snapshot(store)
    assert mapping["n1"] != mapping["a1"]
    assert "Family000021" in items[mapping["n1"]]
    assert "+again" in items[mapping["a1"]]


def test_store_failure_inside_atomic_rolls_back_the_whole_message(store):
    failing = FailingStore(store)
    c = first_sync(_server(failing), {"c1": vcard(1)})
    before = snapshot(store)
    failing.fail_on, failing.fail_after = "add_item", 1          # the second Add fails
    at = atomic(add("a1", vcard(11)), add("a2", vcard(12)))
    after = numbered(add("n1", vcard(21)), iter([900]))
    c.session, c.msg_id = None, 0
    c.send([Alert(data=200, items=(Item(target=Location(loc_uri="contacts"),
                                        source=Location(loc_uri="./contacts"),
                                        meta=Meta(anchor=Anchor(last=c.last_anchor,
                                                                next="X"))),))],
           with_cred=True)
    reply = c.send([Sync(target=Location(loc_uri="contacts"),
                         source=Location(loc_uri="./contacts"), commands=(at, after))])
    assert status_codes(reply.commands, "Atomic") == [510]
    assert status_codes(reply.commands, "Add") == [510, 510, 510]
    assert snapshot(store) == before
