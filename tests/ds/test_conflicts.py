"""Conflict policies: the same item changed on both sides since the last sync."""

from dataclasses import replace

import pytest

from gateway.ds.settings import DEFAULT_DATASTORES
from tests.ds.simclient import SimClient, status_codes, vcard
from tests.ds.test_sync_flow import server_change, server_items


def setup(make_server, store, policy, merge=False):
    stores = tuple(replace(d, conflict_policy=policy, merge=merge) for d in DEFAULT_DATASTORES)
    c = SimClient(make_server(datastores=stores))
    c.items = {"c1": vcard(1), "c2": vcard(2)}
    c.sync(201)
    with store.transaction() as tx:
        guid = tx.get_map("sim-device", "alice", "contacts")["c1"]
    server_change(store, "replace", guid, vcard(1, tel="+server"))
    return c, guid


def test_server_wins(make_server, store):
    c, guid = setup(make_server, store, "server-wins")
    _, got = c.sync(200, replaces=[("c1", vcard(1, tel="+client"))])
    assert status_codes(got, "Replace") == [419]
    assert "+server" in server_items(store)[guid]
    assert "+server" in c.items["c1"]


def test_client_wins(make_server, store):
    c, guid = setup(make_server, store, "client-wins")
    _, got = c.sync(200, replaces=[("c1", vcard(1, tel="+client"))])
    assert status_codes(got, "Replace") == [208]
    assert "+client" in server_items(store)[guid]
    assert "+client" in c.items["c1"]


def test_duplicate(make_server, store):
    c, guid = setup(make_server, store, "duplicate")
    _, got = c.sync(200, replaces=[("c1", vcard(1, tel="+client"))])
    assert status_codes(got, "Replace") == [209]
    items = server_items(store)
    assert len(items) == 3
    assert sum("+server" in d for d in items.values()) == 1
    assert sum("+client" in d for d in items.values()) == 1
    assert sum("+server" in d for d in c.items.values()) == 1
    assert sum("+client" in d for d in c.items.values()) == 1


def test_newer_wins_client_newer(make_server, store):
    c, guid = setup(make_server, store, "newer-wins")
    newer = vcard(1, tel="+client", extra="REV:20991231T000000Z\r\n")
    _, got = c.sync(200, replaces=[("c1", newer)])
    assert status_codes(got, "Replace")[0] in (207, 208)
    assert "+client" in server_items(store)[guid]


def test_newer_wins_server_newer(make_server, store):
    c, guid = setup(make_server, store, "newer-wins")
    older = vcard(1, tel="+client", extra="REV:19700101T000001Z\r\n")
    _, got = c.sync(200, replaces=[("c1", older)])
    assert status_codes(got, "Replace") == [419]
    assert "+server" in server_items(store)[guid]
    assert "+server" in c.items["c1"]


def test_merge_keeps_server_only_fields_and_sends_result_back(make_server, store):
    c, guid = setup(make_server, store, "merge", merge=True)
    server_change(store, "replace", guid, vcard(1, tel="+server", extra="TITLE:Boss\r\n"))
    _, got = c.sync(200, replaces=[("c1", vcard(1, tel="+client", extra="NOTE:hi\r\n"))])
    assert status_codes(got, "Replace") == [207]
    merged = server_items(store)[guid]
    assert "TITLE:Boss" in merged and "NOTE:hi" in merged
    assert c.items["c1"] == merged


@pytest.mark.parametrize("policy", ["merge", "newer-wins"])
def test_merge_policy(make_server, store, policy):
    c, guid = setup(make_server, store, policy, merge=True)
    _, got = c.sync(200, replaces=[("c1", vcard(1, tel="+client", extra="NOTE:hi\r\n"))])
    assert status_codes(got, "Replace") == [207]
    merged = server_items(store)[guid]
    assert "+client" in merged and "NOTE:hi" in merged
    # the merged version went back to the client: both sides agree
    assert merged == c.items["c1"]


def test_client_delete_vs_server_change(make_server, store):
    c, guid = setup(make_server, store, "server-wins")
    _, got = c.sync(200, deletes=["c1"])
    assert status_codes(got, "Delete") == [419]
    assert guid in server_items(store)
    assert any("+server" in d for d in c.items.values())


def test_delete_unknown_item_211(make_server, store):
    c, _ = setup(make_server, store, "server-wins")
    _, got = c.sync(200, deletes=["nope"])
    assert status_codes(got, "Delete") == [211]
