"""Scripted sessions: slow sync, two-way with changes on both sides, refresh, one-way."""

from gateway.ds.contentops import item_uid
from gateway.ds.server.session import aside_device
from tests.ds.simclient import SimClient, status_codes, vcard


def server_items(store, user="alice", ds="contacts"):
    with store.transaction() as tx:
        return {i.guid: bytes(i.data).decode() for i in tx.list_items(user, ds)}


def server_change(store, op, guid=None, data=None, user="alice", ds="contacts"):
    with store.transaction() as tx:
        if op == "add":
            return tx.add_item(user, ds, data=data.encode(), content_type="text/vcard",
                               uid=item_uid(data.encode(), "text/vcard"),
                               changed_by="web", now=5.0).guid
        if op == "replace":
            return tx.replace_item(user, ds, guid, data=data.encode(),
                                   content_type="text/vcard", changed_by="web", now=5.0).guid
        tx.delete_item(user, ds, guid, changed_by="web", now=5.0)


def test_slow_sync_then_two_way_changes_both_sides(server, store):
    c = SimClient(server)
    c.items = {f"c{i}": vcard(i) for i in range(1, 11)}
    mode, got = c.sync(201)
    assert mode == 201
    assert status_codes(got, "Add") == [201] * 10
    assert len(server_items(store)) == 10
    with store.transaction() as tx:
        st = tx.get_sync_state("sim-device", "alice", "contacts")
        mapping = tx.get_map("sim-device", "alice", "contacts")
    assert st.client_anchor == "A0001" and len(mapping) == 10

    # both sides change
    g_new = server_change(store, "add", data=vcard(100))
    g1 = mapping["c1"]
    server_change(store, "replace", g1, vcard(1, tel="+999"))
    server_change(store, "delete", mapping["c2"])
    mode, got = c.sync(200, adds=[("n1", vcard(50))], replaces=[("c3", vcard(3, tel="+333"))],
                       deletes=["c4"])
    assert mode == 200
    assert status_codes(got, "Add") == [201]
    assert status_codes(got, "Replace") == [200]
    assert status_codes(got, "Delete") == [200]
    items = server_items(store)
    assert len(items) == 10          # 10 + 1 (web) + 1 (client) - 1 (web) - 1 (client)
    assert any("+333" in d for d in items.values())
    # the client got the web changes, not its own back
    assert "+999" in c.items["c1"]
    assert "c2" not in c.items
    assert any("Family000100" in d for d in c.items.values())
    assert sum("Family000050" in d for d in c.items.values()) == 1
    with store.transaction() as tx:
        assert g_new in tx.get_map("sim-device", "alice", "contacts").values()

    # nothing changed: an empty two-way sync
    mode, got = c.sync(200)
    assert mode == 200
    assert len(server_items(store)) == 10 and len(c.items) == 10


def test_slow_sync_pairs_identical_items_instead_of_duplicating(server, store):
    for i in range(1, 6):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server)
    c.items = {f"c{i}": vcard(i) for i in range(1, 8)}     # 5 identical + 2 new
    mode, _ = c.sync(201)
    assert mode == 201
    assert len(server_items(store)) == 7
    assert len(c.items) == 7                                   # nothing sent back twice


def test_slow_sync_pairs_by_uid(server, store):
    server_change(store, "add", data=vcard(1, extra="UID:abc\r\n"))
    c = SimClient(server)
    c.items = {"c1": vcard(1, extra="UID:abc\r\nNOTE:changed\r\n")}
    c.sync(201)
    assert len(server_items(store)) == 1


def test_slow_sync_again_pairs_by_the_old_map(server, store):
    c = SimClient(server)
    c.items = {f"c{i}": vcard(i) for i in range(1, 4)}
    c.sync(201)
    with store.transaction() as tx:
        before = tx.get_map("sim-device", "alice", "contacts")
    c.items["c1"] = vcard(1, tel="+1999")          # changed: only the old LUID pairs it
    c.items["c9"] = vcard(9)
    mode, got = c.sync(201)
    assert mode == 201 and status_codes(got, "Add") == [201] * 4
    items = server_items(store)
    assert len(items) == 4 and "+1999" in items[before["c1"]]
    with store.transaction() as tx:
        after = tx.get_map("sim-device", "alice", "contacts")
        assert tx.get_map(aside_device("sim-device"), "alice", "contacts") == {}
    assert {k: after[k] for k in before} == before and set(after) == set(before) | {"c9"}
    assert len(c.items) == 4                       # nothing came back as new


def test_slow_sync_into_empty_datastore_stores_every_item(server, store):
    c = SimClient(server)
    c.items = {"a": vcard(1), "b": vcard(1), "c": vcard(2)}   # two identical cards
    mode, got = c.sync(201)
    assert mode == 201 and status_codes(got, "Add") == [201] * 3
    assert len(server_items(store)) == 3 and len(c.items) == 3
    with store.transaction() as tx:
        assert len(set(tx.get_map("sim-device", "alice", "contacts").values())) == 3


def test_anchor_mismatch_gives_508_and_slow_sync(server, store):
    c = SimClient(server)
    c.items = {"c1": vcard(1)}
    c.sync(201)
    c.last_anchor = "bogus"
    mode, _ = c.sync(200)
    assert mode == 201
    assert status_codes(c.alert_statuses, "Alert") == [508]
    assert len(server_items(store)) == 1


def test_unknown_device_two_way_gets_508(server):
    c = SimClient(server)
    c.last_anchor = "never-synced"
    mode, _ = c.sync(200)
    assert mode == 201 and status_codes(c.alert_statuses, "Alert") == [508]


def test_unknown_datastore_404(server):
    c = SimClient(server, server_ds="nosuchstore")
    mode, statuses = c.sync(200)
    assert mode is None
    assert status_codes(statuses, "Alert") == [404]


def test_refresh_from_client_replaces_server_data(server, store):
    for i in range(1, 4):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server)
    c.items = {"x1": vcard(70), "x2": vcard(71)}
    mode, _ = c.sync(203)
    assert mode == 203
    items = server_items(store)
    assert sorted(d.split("FN:")[1].split("\r\n")[0] for d in items.values()) == [
        "Given000070 Family000070", "Given000071 Family000071"]
    assert len(c.items) == 2


def test_refresh_from_server_sends_everything(server, store):
    for i in range(1, 6):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server)
    c.items = {"old": vcard(99)}
    mode, _ = c.sync(205)
    assert mode == 205
    assert len(c.items) == 5 and "old" not in c.items
    with store.transaction() as tx:
        assert len(tx.get_map("sim-device", "alice", "contacts")) == 5


def test_one_way_from_client_sends_nothing_back(server, store):
    c = SimClient(server)
    c.sync(201)
    server_change(store, "add", data=vcard(5))
    mode, _ = c.sync(202, adds=[("n1", vcard(6))])
    assert mode == 202
    assert len(c.items) == 1
    assert len(server_items(store)) == 2
    # the server change is still delivered by a later two-way sync
    c.sync(200)
    assert len(c.items) == 2


def test_one_way_from_server(server, store):
    c = SimClient(server)
    c.sync(201)
    server_change(store, "add", data=vcard(5))
    mode, _ = c.sync(204)
    assert mode == 204
    assert len(c.items) == 1


def test_server_alerted_codes_accepted_as_client_form(server, store):
    c = SimClient(server)
    c.sync(201)
    server_change(store, "add", data=vcard(5))
    mode, _ = c.sync(206)
    assert mode == 200 and len(c.items) == 1


def test_wbxml_session(make_server, store):
    from gateway.syncml import codec
    c = SimClient(make_server(), encoding=codec.WBXML)
    c.items = {f"c{i}": vcard(i) for i in range(3)}
    assert c.sync(201)[0] == 201
    server_change(store, "add", data=vcard(9))
    c.sync(200)
    assert len(c.items) == 4


def test_items_converted_to_a_type_the_client_accepts(server, store):
    from gateway.syncml.devinf import CTInfo, DataStore, DevInf

    class OldPhone(SimClient):
        def devinf(self):
            return DevInf(ver_dtd="1.2", dev_id=self.device_id, dev_typ="phone",
                          datastores=(DataStore(source_ref=self.ds_uri,
                                                rx_pref=CTInfo(ct_type="text/x-vcard", ver_ct="2.1"),
                                                tx_pref=CTInfo(ct_type="text/x-vcard", ver_ct="2.1"),
                                                sync_cap=(1, 2)),))
    server_change(store, "add", data=vcard(1))
    c = OldPhone(server)
    c.sync(201)
    [data] = c.items.values()
    assert "VERSION:2.1" in data
    types = {a.meta.type for e in c.log for x in e.reply.commands
             if type(x).__name__ == "Sync" for a in x.commands}
    assert types == {"text/x-vcard"}
