"""The one conformance suite every Store driver passes (``gateway/store/base.py``).

A driver's test module subclasses ``StoreConformance`` and provides a ``store`` fixture
that yields a fresh, empty store and closes it afterwards::

    class TestSQLiteConformance(StoreConformance):
        @pytest.fixture
        def store(self, tmp_path): ...

Only the interface is used here, so PostgreSQL and DAV drivers run the identical tests.
"""

from __future__ import annotations

import random

import pytest

from gateway.store.base import (
    Account, Change, Device, NotFound, SyncState, status_for,
)

VCARD = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nTEL;CELL:+15550100\r\nEND:VCARD\r\n"
CT = "text/x-vcard"


class Boom(Exception):
    """Raised inside a transaction to make it roll back."""


def add(tx, user="alice", ds="contacts", data=VCARD, **kw):
    return tx.add_item(user, ds, data=data, content_type=kw.pop("content_type", CT), **kw)


class StoreConformance:
    # -- accounts ------------------------------------------------------------------
    def test_account_missing(self, store):
        with store.transaction() as tx:
            assert tx.get_account("nobody") is None
            assert tx.list_accounts() == []
            assert tx.remove_account("nobody") is False

    def test_account_round_trip_overwrite_remove(self, store):
        alice = Account(username="alice", secret="c2VjcmV0")
        bob = Account(username="bob", secret="Ym9i", enabled=False)
        with store.transaction() as tx:
            tx.put_account(alice)
            tx.put_account(bob)
        with store.transaction() as tx:
            assert tx.get_account("alice") == alice
            assert tx.get_account("bob") == bob
            assert sorted(tx.list_accounts(), key=lambda a: a.username) == [alice, bob]
            changed = Account(username="alice", secret="bmV3", enabled=False)
            tx.put_account(changed)
            assert tx.get_account("alice") == changed
            assert tx.remove_account("alice") is True
            assert tx.remove_account("alice") is False
            assert tx.get_account("alice") is None
            assert tx.list_accounts() == [bob]

    # -- devices --------------------------------------------------------------------
    def test_device_round_trip_and_overwrite(self, store):
        dev = Device(device_id="IMEI:35", username="alice", nonce=b"\x00\xffn",
                     devinf=b"<DevInf>\xc3\xa9</DevInf>", last_seen=1234.5)
        bare = Device(device_id="bare")
        with store.transaction() as tx:
            assert tx.get_device("IMEI:35") is None
            tx.put_device(dev)
            tx.put_device(bare)
        with store.transaction() as tx:
            assert tx.get_device("IMEI:35") == dev
            assert tx.get_device("bare") == bare
            newer = Device(device_id="IMEI:35", username="alice", nonce=b"next", devinf=None,
                           last_seen=2000.0)
            tx.put_device(newer)
            assert tx.get_device("IMEI:35") == newer

    def test_list_devices_all_and_per_user(self, store):
        devs = [Device(device_id="d1", username="alice"), Device(device_id="d2", username="bob"),
                Device(device_id="d3", username="alice"), Device(device_id="d4")]
        with store.transaction() as tx:
            for dev in devs:
                tx.put_device(dev)
            key = lambda d: d.device_id  # noqa: E731
            assert sorted(tx.list_devices(), key=key) == devs
            assert sorted(tx.list_devices("alice"), key=key) == [devs[0], devs[2]]
            assert tx.list_devices("bob") == [devs[1]]
            assert tx.list_devices("carol") == []

    # -- items ----------------------------------------------------------------------
    def test_add_then_get(self, store):
        with store.transaction() as tx:
            item = add(tx, uid="UID-1", changed_by="IMEI:1", now=1700000000.25)
        assert item.data == VCARD and item.content_type == CT and item.deleted is False
        assert item.uid == "UID-1" and item.changed_by == "IMEI:1"
        assert item.modified == 1700000000.25 and item.rev > 0
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", item.guid) == item
            assert tx.count_items("alice", "contacts") == 1

    def test_fresh_datastore_is_empty(self, store):
        with store.transaction() as tx:
            assert tx.current_rev("alice", "contacts") == 0
            assert tx.changes_since("alice", "contacts", 0) == []
            assert list(tx.list_items("alice", "contacts")) == []
            assert tx.count_items("alice", "contacts") == 0
            assert tx.get_item("alice", "contacts", "no-such-guid") is None
            assert tx.find_by_uid("alice", "contacts", "x") is None
            assert tx.delete_all("alice", "contacts") == 0

    def test_revisions_strictly_increase(self, store):
        with store.transaction() as tx:
            first = add(tx)
            second = add(tx)
            second2 = tx.replace_item("alice", "contacts", second.guid, data=b"v2", content_type=CT)
            assert tx.delete_item("alice", "contacts", first.guid) is True
            deleted_rev = tx.current_rev("alice", "contacts")
            third = add(tx)
            revs = [first.rev, second.rev, second2.rev, deleted_rev, third.rev]
            assert revs == sorted(set(revs))
            assert [c.rev for c in tx.changes_since("alice", "contacts", second2.rev)] == revs[3:]
            assert tx.current_rev("alice", "contacts") == third.rev
        with store.transaction() as tx:  # and across transactions
            assert add(tx).rev > third.rev

    def test_revision_counters_independent(self, store):
        with store.transaction() as tx:
            a = [add(tx, "alice", "contacts") for _ in range(3)]
            assert tx.current_rev("alice", "calendar") == 0
            assert tx.current_rev("bob", "contacts") == 0
            b = add(tx, "bob", "contacts")
            c = add(tx, "alice", "calendar")
            assert b.rev == c.rev == a[0].rev  # each counter starts the same way
            assert tx.current_rev("alice", "contacts") == a[-1].rev
            assert tx.changes_since("alice", "calendar", 0) == [Change(guid=c.guid, rev=c.rev, deleted=False)]

    def test_guids_unique_and_never_reused(self, store):
        with store.transaction() as tx:
            items = [add(tx, user, ds) for user in ("alice", "bob") for ds in ("c", "n") for _ in range(6)]
            guids = [i.guid for i in items]
            assert len(set(guids)) == len(guids)
            assert all(isinstance(g, str) and g for g in guids)
            for item in items[:6]:  # alice's "c" items one by one, her "n" items at once
                assert tx.delete_item("alice", "c", item.guid) is True
            assert tx.delete_all("alice", "n") == 6
            again = [add(tx, "alice", ds) for ds in ("c", "n") for _ in range(6)]
            assert not {i.guid for i in again} & set(guids)

    def test_replace(self, store):
        with store.transaction() as tx:
            item = add(tx, uid="U1", changed_by="dev-a", now=10.0)
            new = tx.replace_item("alice", "contacts", item.guid, data=b"new", content_type="text/vcard",
                                  uid="U2", changed_by="dev-b", now=20.0)
        assert new.guid == item.guid and new.rev > item.rev
        assert (new.data, new.content_type, new.uid, new.changed_by, new.modified) == (
            b"new", "text/vcard", "U2", "dev-b", 20.0)
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", item.guid) == new
            assert tx.count_items("alice", "contacts") == 1

    def test_replace_missing_raises_not_found(self, store):
        with store.transaction() as tx:
            item = add(tx)
            gone = add(tx)
            tx.delete_item("alice", "contacts", gone.guid)
            rev = tx.current_rev("alice", "contacts")
            for user, ds, guid in [("alice", "contacts", "no-such-guid"), ("alice", "contacts", gone.guid),
                                   ("bob", "contacts", item.guid), ("alice", "calendar", item.guid)]:
                with pytest.raises(NotFound) as info:
                    tx.replace_item(user, ds, guid, data=b"x", content_type=CT)
                assert status_for(info.value) == 404
            assert tx.current_rev("alice", "contacts") == rev
            assert tx.get_item("alice", "contacts", item.guid) == item

    def test_delete_leaves_tombstone(self, store):
        with store.transaction() as tx:
            keep = add(tx, uid="K")
            item = add(tx, uid="D")
            assert tx.delete_item("alice", "contacts", item.guid, changed_by="dev-x", now=5.0) is True
            rev = tx.current_rev("alice", "contacts")
            assert rev > item.rev
            assert tx.delete_item("alice", "contacts", item.guid) is False
            assert tx.delete_item("alice", "contacts", "no-such-guid") is False
            assert tx.current_rev("alice", "contacts") == rev
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", item.guid) is None
            assert [i.guid for i in tx.list_items("alice", "contacts")] == [keep.guid]
            assert tx.count_items("alice", "contacts") == 1
            assert tx.find_by_uid("alice", "contacts", "D") is None
            assert tx.changes_since("alice", "contacts", keep.rev) == [
                Change(guid=item.guid, rev=rev, deleted=True, changed_by="dev-x")]

    def test_delete_all(self, store):
        with store.transaction() as tx:
            items = [add(tx) for _ in range(5)]
            other = add(tx, ds="calendar")
            tx.delete_item("alice", "contacts", items[0].guid)
            before = tx.current_rev("alice", "contacts")
            assert tx.delete_all("alice", "contacts", changed_by="dev-r", now=9.0) == 4
            assert tx.delete_all("alice", "contacts") == 0
        with store.transaction() as tx:
            assert tx.count_items("alice", "contacts") == 0
            assert list(tx.list_items("alice", "contacts")) == []
            changes = tx.changes_since("alice", "contacts", before)
            assert {c.guid for c in changes} == {i.guid for i in items[1:]}
            assert all(c.deleted and c.changed_by == "dev-r" for c in changes)
            revs = [c.rev for c in changes]
            assert revs == sorted(set(revs)) and revs[0] > before
            assert tx.current_rev("alice", "contacts") == revs[-1]
            assert tx.get_item("alice", "calendar", other.guid) == other

    def test_list_items_live_in_guid_order(self, store):
        with store.transaction() as tx:
            items = [add(tx, data=b"item %d" % n) for n in range(25)]
            for item in items[::3]:
                tx.delete_item("alice", "contacts", item.guid)
            tx.replace_item("alice", "contacts", items[1].guid, data=b"changed", content_type=CT)
        with store.transaction() as tx:
            listed = list(tx.list_items("alice", "contacts"))
            assert [i.guid for i in listed] == sorted(i.guid for i in items if i not in items[::3])
            assert [i.guid for i in listed] == sorted(i.guid for i in listed)
            assert all(not i.deleted for i in listed)
            assert listed[0].data == b"changed" and listed[1].data == b"item 2"
            assert listed == [tx.get_item("alice", "contacts", i.guid) for i in listed]
            assert tx.count_items("alice", "contacts") == len(listed)

    def test_changes_since_latest_change_per_item_in_rev_order(self, store):
        with store.transaction() as tx:
            a, b, c = add(tx), add(tx), add(tx, changed_by="dev-c")
            a2 = tx.replace_item("alice", "contacts", a.guid, data=b"a2", content_type=CT, changed_by="dev-a")
            tx.delete_item("alice", "contacts", b.guid, changed_by="dev-b")
            b_rev = tx.current_rev("alice", "contacts")
            a3 = tx.replace_item("alice", "contacts", a.guid, data=b"a3", content_type=CT)
        with store.transaction() as tx:
            assert tx.changes_since("alice", "contacts", 0) == [
                Change(guid=c.guid, rev=c.rev, deleted=False, changed_by="dev-c"),
                Change(guid=b.guid, rev=b_rev, deleted=True, changed_by="dev-b"),
                Change(guid=a.guid, rev=a3.rev, deleted=False, changed_by=None)]
            assert [ch.guid for ch in tx.changes_since("alice", "contacts", c.rev)] == [b.guid, a.guid]
            assert [ch.guid for ch in tx.changes_since("alice", "contacts", a2.rev)] == [b.guid, a.guid]
            assert [ch.guid for ch in tx.changes_since("alice", "contacts", b_rev)] == [a.guid]
            assert tx.changes_since("alice", "contacts", a3.rev) == []

    def test_find_by_uid(self, store):
        with store.transaction() as tx:
            item = add(tx, uid="UID-A")
            add(tx, uid=None)
            bob = add(tx, "bob", uid="UID-A")
            assert tx.find_by_uid("alice", "contacts", "UID-A") == item
            assert tx.find_by_uid("bob", "contacts", "UID-A") == bob
            assert tx.find_by_uid("alice", "calendar", "UID-A") is None
            assert tx.find_by_uid("alice", "contacts", "UID-B") is None
            new = tx.replace_item("alice", "contacts", item.guid, data=b"x", content_type=CT, uid="UID-B")
            assert tx.find_by_uid("alice", "contacts", "UID-A") is None
            assert tx.find_by_uid("alice", "contacts", "UID-B") == new
            tx.delete_item("alice", "contacts", item.guid)
            assert tx.find_by_uid("alice", "contacts", "UID-B") is None

    def test_list_guids_pages_live_items_in_list_order(self, store):
        with store.transaction() as tx:
            items = [add(tx, data=b"item %d" % n) for n in range(12)]
            for item in items[::4]:
                tx.delete_item("alice", "contacts", item.guid)
            add(tx, "bob")
            add(tx, ds="calendar")
        with store.transaction() as tx:
            listed = [i.guid for i in tx.list_items("alice", "contacts")]
            assert tx.list_guids("alice", "contacts") == listed and len(listed) == 9
            assert tx.list_guids("alice", "contacts", limit=4) == listed[:4]
            assert tx.list_guids("alice", "contacts", after=listed[3], limit=4) == listed[4:8]
            assert tx.list_guids("alice", "contacts", after=listed[7]) == listed[8:]
            assert tx.list_guids("alice", "contacts", after=listed[-1]) == []
            assert tx.list_guids("alice", "nothing") == []

    def test_find_by_fingerprint(self, store):
        with store.transaction() as tx:
            a = add(tx, data=b"a", fingerprint="fp-1")
            b = add(tx, data=b"b", fingerprint="fp-1")
            c = add(tx, data=b"c", fingerprint="fp-2")
            add(tx, data=b"d")
            add(tx, "bob", fingerprint="fp-1")
            add(tx, ds="calendar", fingerprint="fp-1")
        with store.transaction() as tx:
            assert tx.find_by_fingerprint("alice", "contacts", "fp-1") == [a.guid, b.guid]
            assert tx.find_by_fingerprint("alice", "contacts", "fp-2") == [c.guid]
            assert tx.find_by_fingerprint("alice", "contacts", "fp-3") == []
            assert tx.find_by_fingerprint("alice", "nothing", "fp-1") == []
            before = tx.current_rev("alice", "contacts")
            tx.replace_item("alice", "contacts", a.guid, data=b"a2", content_type=CT,
                            fingerprint="fp-2")
            tx.replace_item("alice", "contacts", c.guid, data=b"c2", content_type=CT)
            tx.delete_item("alice", "contacts", b.guid)
            assert tx.current_rev("alice", "contacts") == before + 3
            assert tx.find_by_fingerprint("alice", "contacts", "fp-1") == []
            assert tx.find_by_fingerprint("alice", "contacts", "fp-2") == [a.guid]

    def test_fingerprints_filled_in_later(self, store):
        with store.transaction() as tx:
            items = [add(tx, data=b"x %d" % n) for n in range(5)]
            tx.delete_item("alice", "contacts", items[4].guid)
            known = add(tx, data=b"known", fingerprint="fp-k")
        with store.transaction() as tx:
            missing = tx.list_items_without_fingerprint("alice", "contacts")
            assert missing == [tx.get_item("alice", "contacts", i.guid) for i in items[:4]]
            assert tx.list_items_without_fingerprint("alice", "contacts", limit=2) == missing[:2]
            rev = tx.current_rev("alice", "contacts")
            changes = tx.changes_since("alice", "contacts", 0)
            tx.set_fingerprints("alice", "contacts", [(items[0].guid, "fp-0"),
                                                      (items[1].guid, "fp-s"),
                                                      (items[2].guid, "fp-s"),
                                                      (items[4].guid, "fp-gone")])
            tx.set_fingerprints("alice", "nothing", [(items[3].guid, "fp-x")])
            assert tx.current_rev("alice", "contacts") == rev
            assert tx.changes_since("alice", "contacts", 0) == changes
            assert tx.list_items_without_fingerprint("alice", "contacts") == [missing[3]]
            assert tx.find_by_fingerprint("alice", "contacts", "fp-s") == [items[1].guid,
                                                                            items[2].guid]
            assert tx.find_by_fingerprint("alice", "contacts", "fp-0") == [items[0].guid]
            assert tx.find_by_fingerprint("alice", "contacts", "fp-gone") == []
            assert tx.find_by_fingerprint("alice", "contacts", "fp-k") == [known.guid]
            assert tx.get_item("alice", "contacts", items[1].guid) == items[1]

    def test_users_are_isolated(self, store):
        with store.transaction() as tx:
            mine = {add(tx, "alice", data=b"alice %d" % n).guid for n in range(4)}
            theirs = {add(tx, "bob", data=b"bob %d" % n).guid for n in range(4)}
        with store.transaction() as tx:
            bob_items = {i.guid: i for i in tx.list_items("bob", "contacts")}
            assert set(bob_items) == theirs
            assert all(i.data.startswith(b"bob") for i in bob_items.values())
            for guid in mine:  # whatever bob sees under alice's guids is bob's own
                seen = tx.get_item("bob", "contacts", guid)
                assert seen is None or seen == bob_items[guid]
                if guid not in theirs:
                    assert tx.delete_item("bob", "contacts", guid) is False
                    with pytest.raises(NotFound):
                        tx.replace_item("bob", "contacts", guid, data=b"x", content_type=CT)
            assert {c.guid for c in tx.changes_since("bob", "contacts", 0)} == theirs
            assert tx.delete_all("bob", "contacts") == 4
        with store.transaction() as tx:
            assert {i.guid for i in tx.list_items("alice", "contacts")} == mine
            assert all(i.data.startswith(b"alice") for i in tx.list_items("alice", "contacts"))
            assert not any(c.deleted for c in tx.changes_since("alice", "contacts", 0))

    def test_datastores_are_isolated(self, store):
        with store.transaction() as tx:
            card = add(tx, ds="contacts")
            event = add(tx, ds="calendar", data=b"BEGIN:VCALENDAR", content_type="text/x-vcalendar")
            assert [i.guid for i in tx.list_items("alice", "calendar")] == [event.guid]
            assert tx.get_item("alice", "calendar", card.guid) in (None, event)
            assert tx.count_items("alice", "contacts") == 1

    @pytest.mark.parametrize("data", [
        b"", b"\x00", bytes(range(256)), b"\xff\xfe\x00\xc3(\xa0\xa1 not utf-8", b"trailing NUL\x00\x00",
    ])
    def test_data_bytes_round_trip_exactly(self, store, data):
        with store.transaction() as tx:
            item = add(tx, data=data)
        with store.transaction() as tx:
            got = tx.get_item("alice", "contacts", item.guid)
            assert type(got.data) is bytes and got.data == data
            assert [i.data for i in tx.list_items("alice", "contacts")] == [data]
            tx.replace_item("alice", "contacts", item.guid, data=data[::-1], content_type=CT)
            assert tx.get_item("alice", "contacts", item.guid).data == data[::-1]

    def test_big_item_round_trips(self, store):
        big = random.Random(7).randbytes(2 * 1024 * 1024)
        with store.transaction() as tx:
            item = add(tx, data=big)
            small = add(tx)
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", item.guid).data == big
            assert [i.data for i in tx.list_items("alice", "contacts")] == [big, VCARD]
            tx.replace_item("alice", "contacts", small.guid, data=big[::-1], content_type=CT)
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", small.guid).data == big[::-1]

    # -- sync state -------------------------------------------------------------------
    def test_sync_state_round_trip(self, store):
        state = SyncState(device_id="IMEI:1", username="alice", datastore="contacts",
                          client_anchor="20240101T000000Z", server_anchor="17", synced_rev=17)
        with store.transaction() as tx:
            assert tx.get_sync_state("IMEI:1", "alice", "contacts") is None
            tx.put_sync_state(state)
        with store.transaction() as tx:
            assert tx.get_sync_state("IMEI:1", "alice", "contacts") == state
            for key in [("IMEI:2", "alice", "contacts"), ("IMEI:1", "bob", "contacts"),
                        ("IMEI:1", "alice", "calendar")]:
                assert tx.get_sync_state(*key) is None
            newer = SyncState(device_id="IMEI:1", username="alice", datastore="contacts", synced_rev=30)
            tx.put_sync_state(newer)
            assert tx.get_sync_state("IMEI:1", "alice", "contacts") == newer

    # -- ID maps ------------------------------------------------------------------------
    def test_map_put_update_remove_clear(self, store):
        key = ("IMEI:1", "alice", "contacts")
        with store.transaction() as tx:
            assert tx.get_map(*key) == {}
            tx.put_mappings(*key, [("1", "g1"), ("2", "g2"), ("3", "g3")])
            tx.put_mappings(*key, iter([("2", "g22"), ("4", "g4")]))  # a one-shot iterable
        with store.transaction() as tx:
            assert tx.get_map(*key) == {"1": "g1", "2": "g22", "3": "g3", "4": "g4"}
            tx.remove_mappings(*key, ["1", "3", "not-there"])
            assert tx.get_map(*key) == {"2": "g22", "4": "g4"}
            tx.put_mappings(*key, [])
            tx.remove_mappings(*key, [])
            assert tx.get_map(*key) == {"2": "g22", "4": "g4"}
            tx.clear_map(*key)
            assert tx.get_map(*key) == {}
            tx.clear_map(*key)

    def test_move_map_takes_rows_and_bases_and_replaces_the_target(self, store):
        src, dst = ("IMEI:1", "alice", "contacts"), ("IMEI:1#aside", "alice", "contacts")
        with store.transaction() as tx:
            assert tx.move_map(src[0], dst[0], "alice", "contacts") == 0
            tx.put_bases(*src, [("1", "g1", b"BASE1"), ("2", "g2", None)])
            tx.put_mappings(*dst, [("old", "g9")])
            tx.put_mappings("IMEI:1", "alice", "calendar", [("c", "gc")])
            assert tx.move_map(src[0], dst[0], "alice", "contacts") == 2
        with store.transaction() as tx:
            assert tx.get_map(*src) == {}
            assert tx.get_map(*dst) == {"1": "g1", "2": "g2"}
            assert tx.get_base(*dst, "1", "g1") == b"BASE1"
            assert tx.get_base(*dst, "2", "g2") is None
            assert tx.get_map("IMEI:1", "alice", "calendar") == {"c": "gc"}

    def test_map_entries_of_some_luids(self, store):
        key = ("IMEI:1", "alice", "contacts")
        with store.transaction() as tx:
            assert tx.get_map(*key, ["1"]) == {}
            tx.put_mappings(*key, [("1", "g1"), ("2", "g2"), ("3", "g3")])
            tx.put_mappings("IMEI:2", "alice", "contacts", [("4", "g4")])
            assert tx.get_map(*key, ["3", "1", "4", "nope"]) == {"1": "g1", "3": "g3"}
            assert tx.get_map(*key, iter(["2"])) == {"2": "g2"}
            assert tx.get_map(*key, []) == {}

    def test_maps_isolated_per_device_user_datastore(self, store):
        keys = [("IMEI:1", "alice", "contacts"), ("IMEI:2", "alice", "contacts"),
                ("IMEI:1", "alice", "calendar"), ("IMEI:1", "bob", "contacts")]
        with store.transaction() as tx:
            for n, key in enumerate(keys):
                tx.put_mappings(*key, [("1", f"g{n}"), (f"only{n}", "x")])
            tx.remove_mappings(*keys[0], ["1"])
            tx.clear_map(*keys[1])
        with store.transaction() as tx:
            assert tx.get_map(*keys[0]) == {"only0": "x"}
            assert tx.get_map(*keys[1]) == {}
            assert tx.get_map(*keys[2]) == {"1": "g2", "only2": "x"}
            assert tx.get_map(*keys[3]) == {"1": "g3", "only3": "x"}

    def test_big_map(self, store):
        pairs = {str(n): f"g{n * 7}" for n in range(3000)}
        with store.transaction() as tx:
            tx.put_mappings("d", "alice", "contacts", pairs.items())
        with store.transaction() as tx:
            assert tx.get_map("d", "alice", "contacts") == pairs

    # -- sessions ------------------------------------------------------------------------
    def test_session_save_load_overwrite_delete(self, store):
        blob = bytes(range(256)) * 10
        with store.transaction() as tx:
            assert tx.load_session("s1") is None
            tx.save_session("s1", blob, expires=100.0)
            tx.save_session("s2", b"two", expires=100.0)
        with store.transaction() as tx:
            assert tx.load_session("s1") == blob
            tx.save_session("s1", b"second", expires=200.0)
            assert tx.load_session("s1") == b"second"
            tx.delete_session("s1")
            tx.delete_session("never-there")
            assert tx.load_session("s1") is None
            assert tx.load_session("s2") == b"two"

    def test_expire_sessions(self, store):
        with store.transaction() as tx:
            tx.save_session("old1", b"a", expires=10.0)
            tx.save_session("old2", b"b", expires=20.0)
            tx.save_session("new", b"c", expires=40.0)
            tx.save_session("renewed", b"d", expires=15.0)
            tx.save_session("renewed", b"d", expires=50.0)
        with store.transaction() as tx:
            assert tx.expire_sessions(30.0) == 2
            assert tx.load_session("old1") is None and tx.load_session("old2") is None
            assert tx.load_session("new") == b"c" and tx.load_session("renewed") == b"d"
            assert tx.expire_sessions(30.0) == 0

    # -- failed-login throttling ----------------------------------------------------------------
    def test_auth_failures(self, store):
        with store.transaction() as tx:
            assert tx.count_auth_failures("alice@1.2.3.4", 0.0) == 0
            for t in (10.0, 20.0, 30.0):
                tx.record_auth_failure("alice@1.2.3.4", t)
            tx.record_auth_failure("bob", 25.0)
        with store.transaction() as tx:
            assert tx.count_auth_failures("alice@1.2.3.4", 0.0) == 3
            assert tx.count_auth_failures("alice@1.2.3.4", 15.0) == 2
            assert tx.count_auth_failures("alice@1.2.3.4", 31.0) == 0
            tx.clear_auth_failures("alice@1.2.3.4")
            assert tx.count_auth_failures("alice@1.2.3.4", 0.0) == 0
            assert tx.count_auth_failures("bob", 0.0) == 1

    # -- transactions ------------------------------------------------------------------------
    def test_raising_transaction_rolls_back_everything(self, store):
        with store.transaction() as tx:
            kept = add(tx, uid="K")
            doomed = add(tx)
            tx.put_mappings("d", "alice", "contacts", [("1", kept.guid)])
            tx.put_sync_state(SyncState(device_id="d", username="alice", datastore="contacts", synced_rev=2))
            tx.save_session("s", b"before", expires=99.0)
            rev = tx.current_rev("alice", "contacts")
        with pytest.raises(Boom):
            with store.transaction() as tx:
                added = add(tx, uid="NEW")
                tx.replace_item("alice", "contacts", kept.guid, data=b"changed", content_type=CT)
                tx.delete_item("alice", "contacts", doomed.guid)
                add(tx, "bob", "notes")
                tx.put_mappings("d", "alice", "contacts", [("1", "other"), ("2", added.guid)])
                tx.remove_mappings("d", "alice", "contacts", ["1"])
                tx.put_sync_state(SyncState(device_id="d", username="alice", datastore="contacts"))
                tx.save_session("s", b"after", expires=99.0)
                tx.save_session("t", b"new", expires=99.0)
                tx.put_account(Account(username="carol", secret="x"))
                tx.put_device(Device(device_id="new-dev"))
                tx.record_auth_failure("carol", 1.0)
                raise Boom()
        with store.transaction() as tx:
            assert tx.current_rev("alice", "contacts") == rev
            assert tx.current_rev("bob", "notes") == 0
            assert list(tx.list_items("alice", "contacts")) == [kept, doomed]
            assert tx.changes_since("alice", "contacts", rev) == []
            assert tx.find_by_uid("alice", "contacts", "NEW") is None
            assert tx.get_map("d", "alice", "contacts") == {"1": kept.guid}
            assert tx.get_sync_state("d", "alice", "contacts").synced_rev == 2
            assert tx.load_session("s") == b"before" and tx.load_session("t") is None
            assert tx.get_account("carol") is None and tx.get_device("new-dev") is None
            assert tx.count_auth_failures("carol", 0.0) == 0
            after = add(tx)
            assert after.rev > rev
            assert [c.guid for c in tx.changes_since("alice", "contacts", rev)] == [after.guid]

    def test_store_error_inside_rolls_back(self, store):
        with pytest.raises(NotFound):
            with store.transaction() as tx:
                add(tx)
                tx.replace_item("alice", "contacts", "no-such-guid", data=b"", content_type=CT)
        with store.transaction() as tx:
            assert tx.count_items("alice", "contacts") == 0
            assert tx.current_rev("alice", "contacts") == 0

    def test_caught_store_error_keeps_transaction_usable(self, store):
        with store.transaction() as tx:
            first = add(tx)
            with pytest.raises(NotFound):
                tx.replace_item("alice", "contacts", "no-such-guid", data=b"", content_type=CT)
            second = add(tx)
        with store.transaction() as tx:
            assert [i.guid for i in tx.list_items("alice", "contacts")] == sorted([first.guid, second.guid])

    def test_commit_is_durable_across_transactions(self, store):
        with store.transaction() as tx:
            item = add(tx)
        with store.transaction() as tx:
            assert tx.get_item("alice", "contacts", item.guid) == item
