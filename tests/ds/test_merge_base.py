"""Merge bases: the content a device and the server last agreed on, kept per ID-map
row, makes conflict merging three-way (gateway/ds/conflicts.py, maps.py, context.py)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import replace

import pytest

from gateway.ds.server.context import MessageContext
from gateway.ds.server.handler import SyncServer
from gateway.ds.server.session import DatastoreState, SessionState
from gateway.ds.settings import DEFAULT_DATASTORES, ServerSettings
from gateway.store import schema
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.sqlite.store import SQLiteStore
from gateway.store.memory import FakeStore
from tests.ds.simclient import SimClient, status_codes
from tests.ds.test_sync_flow import server_change, server_items

DEVICE, USER, DS = "sim-device", "alice", "contacts"


def card(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", "N:Doe;John;;;", "FN:John Doe",
                        *lines, "END:VCARD", ""])


FULL = card("TEL;TYPE=CELL:+15550100", "TEL;TYPE=HOME:+15550199", "EMAIL:j@example.com",
            "NOTE:old")


def datastores(policy="merge", merge=True):
    return tuple(replace(d, conflict_policy=policy, merge=merge) for d in DEFAULT_DATASTORES)


def server_for(store, policy="merge", merge=True) -> SyncServer:
    n = iter(range(1, 1_000_000))
    return SyncServer(ServerSettings(datastores=datastores(policy, merge)), store,
                      random_bytes=lambda k: (next(n).to_bytes(4, "big") * k)[:k])


def base_of(store, luid, device=DEVICE):
    with store.transaction() as tx:
        guid = tx.get_map(device, USER, DS).get(luid)
        return None if guid is None else tx.get_base(device, USER, DS, luid, guid)


def guid_of(store, luid, device=DEVICE):
    with store.transaction() as tx:
        return tx.get_map(device, USER, DS)[luid]


def first_sync(store, data=FULL, **kw) -> tuple[SimClient, str]:
    c = SimClient(server_for(store, **kw))
    c.items = {"c1": data}
    c.sync(201)
    return c, guid_of(store, "c1")


# -- the conflict scenarios ------------------------------------------------------------------
def test_device_deletes_a_tel_while_the_server_edits_note(store):
    c, guid = first_sync(store)
    assert base_of(store, "c1") == FULL.encode()        # the client's Add applied: the base
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:server"))
    _, got = c.sync(200, replaces=[("c1", FULL.replace("TEL;TYPE=HOME:+15550199\r\n", ""))])
    assert status_codes(got, "Replace") == [207]
    for data in (server_items(store)[guid], c.items["c1"]):
        assert "+15550199" not in data and "+15550100" in data
        assert "NOTE:server" in data and "NOTE:old" not in data
    assert base_of(store, "c1") == c.items["c1"].encode()   # the merge result acknowledged


def test_both_add_different_emails_both_kept(store):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "EMAIL:s@example.com\r\nNOTE:old"))
    _, got = c.sync(200, replaces=[("c1", FULL.replace("NOTE:old", "EMAIL:c@example.com\r\nNOTE:old"))])
    assert status_codes(got, "Replace") == [207]
    for data in (server_items(store)[guid], c.items["c1"]):
        assert all(e in data for e in ("j@example.com", "s@example.com", "c@example.com"))


@pytest.mark.parametrize("policy, client_rev, want", [
    ("merge", "", "FN:Client"),
    ("newer-wins", "REV:19700101T000001Z", "FN:Server"),      # the server's side is newer
])
def test_both_change_fn_prefer_side_wins(store, policy, client_rev, want):
    c, guid = first_sync(store, policy=policy)
    server_change(store, "replace", guid, FULL.replace("FN:John Doe", "FN:Server"))
    mine = FULL.replace("FN:John Doe", "FN:Client").replace("TEL;TYPE=HOME:+15550199\r\n", "")
    if client_rev:
        mine = mine.replace("NOTE:old", "NOTE:old\r\n" + client_rev)
    _, got = c.sync(200, replaces=[("c1", mine)])
    assert status_codes(got, "Replace") == [207]
    for data in (server_items(store)[guid], c.items["c1"]):
        assert want in data and "+15550199" not in data


def test_edit_beats_a_delete_of_the_same_value(store):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:server"))
    _, got = c.sync(200, replaces=[("c1", FULL.replace("NOTE:old\r\n", ""))])
    assert status_codes(got, "Replace") == [207]
    assert "NOTE:server" in server_items(store)[guid] and "NOTE:server" in c.items["c1"]


def test_without_a_base_the_merge_is_two_way(store):
    c, guid = first_sync(store)
    with store.transaction() as tx:             # a row written before bases existed
        tx.put_bases(DEVICE, USER, DS, [("c1", guid, None)])
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:server"))
    c.sync(200, replaces=[("c1", FULL.replace("TEL;TYPE=HOME:+15550199\r\n", ""))])
    assert "+15550199" in server_items(store)[guid]        # the union brings it back


# -- where bases come from -----------------------------------------------------------------
def test_items_we_send_become_the_base_once_acknowledged(store):
    c = SimClient(server_for(store))
    c.sync(201)
    guid = server_change(store, "add", data=FULL)
    c.sync(200)                                       # our Add, its Status and the Map
    (luid,) = c.items
    assert base_of(store, luid) == FULL.encode()
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:v2"))
    c.sync(200)                                       # our Replace, acknowledged
    assert base_of(store, luid) == c.items[luid].encode() and "NOTE:v2" in c.items[luid]
    server_change(store, "replace", guid, c.items[luid].replace("NOTE:v2", "NOTE:v3"))
    c.sync(200, replaces=[(luid, c.items[luid].replace("EMAIL:j@example.com\r\n", ""))])
    for data in (server_items(store)[guid], c.items[luid]):
        assert "NOTE:v3" in data and "j@example.com" not in data


def test_large_object_sent_in_chunks_becomes_the_base(store):
    big = card("TEL:+15550100", "NOTE:" + "x" * 50_000)
    c = SimClient(server_for(store), max_msg_size=20000, max_obj_size=4_000_000)
    c.sync(201)
    server_change(store, "add", data=big)
    c.sync(200)
    (luid,) = c.items
    chunked = [e for e in c.log if b"<MoreData" in e.body]
    assert len(chunked) >= 2
    assert c.items[luid] == big and base_of(store, luid) == big.encode()


def test_rejected_items_leave_the_base_alone(store, monkeypatch):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:new"))
    apply = SimClient._apply

    def refuse(self, reply, cmd, mapitems):
        status = apply(self, reply, cmd, mapitems)
        return replace(status, data=500)
    monkeypatch.setattr(SimClient, "_apply", refuse)
    c.sync(200)
    assert base_of(store, "c1") == FULL.encode()


def test_slow_sync_pairs_set_the_base(store):
    other = SimClient(server_for(store), device_id="other")
    other.items = {"o1": FULL, "o2": card("UID:u2", "TEL:+15550123", "EMAIL:o@example.com")}
    other.sync(201)
    c = SimClient(server_for(store))
    identical = FULL.replace("\r\n", "\n").replace("NOTE:old", "NOTE:old ")   # same content
    differing = card("UID:u2", "TEL:+15550123", "NOTE:differs")
    c.items = {"c1": identical, "c2": differing}
    c.sync(201)
    assert base_of(store, "c1") == identical.encode()          # paired as identical
    # paired by UID, contents differ: merged (two-way: no base on slow sync) and sent back;
    # the client's acknowledgement makes the merged item the base
    merged = c.items["c2"]
    assert "o@example.com" in merged and "NOTE:differs" in merged
    assert base_of(store, "c2") == merged.encode() == server_items(store)[guid_of(store, "c2")].encode()
    guid = guid_of(store, "c1")
    server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:server"))
    c.sync(200, replaces=[("c1", identical.replace("TEL;TYPE=HOME:+15550199\n", ""))])
    assert "+15550199" not in server_items(store)[guid]
    assert "NOTE:server" in c.items["c1"]


def test_slow_sync_merge_leaves_the_base_empty_until_acknowledged(store, monkeypatch):
    other = SimClient(server_for(store), device_id="other")
    other.items = {"o2": card("UID:u2", "TEL:+15550123", "EMAIL:o@example.com")}
    other.sync(201)
    c = SimClient(server_for(store))
    c.items = {"c2": card("UID:u2", "TEL:+15550123", "NOTE:differs")}
    apply = SimClient._apply
    monkeypatch.setattr(SimClient, "_apply", lambda self, reply, cmd, mapitems: replace(
        apply(self, reply, cmd, mapitems), data=500))          # the merged item refused
    c.sync(201)
    assert guid_of(store, "c2") and base_of(store, "c2") is None


def test_deleted_items_drop_their_base(store):
    c, guid = first_sync(store)
    c.items["c2"] = card("TEL:+15550111")
    c.sync(200, adds=[("c2", c.items["c2"])])
    c.sync(200, deletes=["c1"])
    assert base_of(store, "c1") is None
    with store.transaction() as tx:
        assert "c1" not in tx.get_map(DEVICE, USER, DS)
    server_change(store, "delete", guid_of(store, "c2"))
    c.sync(200)                                       # our Delete, acknowledged
    assert "c2" not in c.items
    with store.transaction() as tx:
        assert tx.get_map(DEVICE, USER, DS) == {}


def test_base_survives_a_daemon_restart(tmp_path):
    path = tmp_path / "gw.db"
    store = SQLiteStore(path)
    with store.transaction() as tx:
        tx.put_account(Account(username=USER, secret=make_secret(USER, "secret")))
    c, guid = first_sync(store)
    store.close()
    store = SQLiteStore(path)                          # a new process: nothing but the file
    try:
        c.server = server_for(store)
        assert base_of(store, "c1") == FULL.encode()
        server_change(store, "replace", guid, FULL.replace("NOTE:old", "NOTE:server"))
        c.sync(200, replaces=[("c1", FULL.replace("TEL;TYPE=HOME:+15550199\r\n", ""))])
        assert "+15550199" not in server_items(store)[guid]
    finally:
        store.close()


def test_a_store_without_the_column_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.upgrade_sqlite(conn, schema.load_steps("sqlite")[:2])
    conn.execute("INSERT INTO datastores (id, username, name) VALUES (1, 'alice', 'contacts')")
    conn.execute("INSERT INTO id_maps (device_id, ds_id, luid, guid) VALUES ('d', 1, 'l1', 'a1')")
    assert "base" not in [r[1] for r in conn.execute("PRAGMA table_info(id_maps)")]
    conn.close()
    store = SQLiteStore(path)
    try:
        assert store.schema_version >= 3
        with store.transaction() as tx:
            assert tx.get_map("d", USER, DS) == {"l1": "a1"}
            assert tx.get_base("d", USER, DS, "l1", "a1") is None
            tx.put_bases("d", USER, DS, [("l1", "a1", b"BEGIN:VCARD")])
            assert tx.get_base("d", USER, DS, "l1", "a1") == b"BEGIN:VCARD"
            assert tx.get_base("d", USER, DS, "l1", "a2") is None
            tx.put_mappings("d", USER, DS, [("l1", "a1")])           # same item: kept
            assert tx.get_base("d", USER, DS, "l1", "a1") == b"BEGIN:VCARD"
            tx.put_mappings("d", USER, DS, [("l1", "a2")])           # another item: dropped
            assert tx.get_base("d", USER, DS, "l1", "a2") is None
    finally:
        store.close()


# -- store calls ------------------------------------------------------------------------------
def test_store_base_calls(store):
    with store.transaction() as tx:
        tx.put_bases("d", USER, DS, [("l1", "g1", b"one"), ("l2", "g2", None)])
        assert tx.get_map("d", USER, DS) == {"l1": "g1", "l2": "g2"}
        assert (tx.get_base("d", USER, DS, "l1", "g1"), tx.get_base("d", USER, DS, "l2", "g2")) \
            == (b"one", None)
        assert tx.get_base("other", USER, DS, "l1", "g1") is None
        tx.remove_mappings("d", USER, DS, ["l1"])
        tx.put_mappings("d", USER, DS, [("l1", "g1")])
        assert tx.get_base("d", USER, DS, "l1", "g1") is None      # went with its row
        tx.put_bases("d", USER, DS, [("l1", "g1", b"again")])
        tx.clear_map("d", USER, DS)
        assert tx.get_base("d", USER, DS, "l1", "g1") is None


class CountingStore:
    """Wraps a Store; counts put_bases calls and the entries of each."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    @contextmanager
    def transaction(self):
        with self.inner.transaction() as tx:
            yield _CountingTx(self, tx)

    def close(self):
        self.inner.close()


class _CountingTx:
    def __init__(self, owner, tx):
        self._owner, self._tx = owner, tx

    def __getattr__(self, name):
        return getattr(self._tx, name)

    def put_bases(self, device_id, username, datastore, entries):
        entries = list(entries)
        self._owner.calls.append(len(entries))
        return self._tx.put_bases(device_id, username, datastore, entries)


def test_acknowledgements_are_batched_per_message(store):
    """One put_bases call per datastore for every Replace the client acknowledged."""
    counting = CountingStore(store)
    c = SimClient(server_for(counting))
    c.items = {f"c{i}": card(f"TEL:+1555{i:04d}") for i in range(20)}
    c.sync(201)
    assert counting.calls == [1] * 20          # the client's Adds: one map write each, as before
    for luid, data in c.items.items():
        server_change(store, "replace", guid_of(store, luid), data.replace("TEL:", "NOTE:x\r\nTEL:"))
    counting.calls.clear()
    c.sync(200)
    assert counting.calls == [20]
    assert all(base_of(store, luid) == data.encode() for luid, data in c.items.items())


def test_checkpoint_restores_queued_acknowledgements():
    state = SessionState(key="k", created=0.0, expires=1.0)
    state.datastores[DS] = DatastoreState(name=DS, client_uri="./c", server_uri=DS, mode=200)
    ctx = MessageContext(tx=FakeStore(), settings=ServerSettings(), state=state, now=0.0,
                         msg_id="1", encoding="xml")
    ctx.agree(DS, "l1", "g1", b"one")
    state.datastores[DS].acked["g9"] = ["payload", None]
    mark = ctx.checkpoint()
    ctx.agree(DS, "l2", "g2", b"two")
    ctx.agreed[DS].pop("l1")
    state.datastores[DS].acked["g8"] = ["other", None]
    ctx.restore(mark)
    assert ctx.agreed == {DS: {"l1": ("g1", b"one")}}
    assert state.datastores[DS].acked == {"g9": ["payload", None]}
