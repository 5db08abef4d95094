"""Slow sync keeps what the old ID map knew: a pair found through the set-aside map
merges three-way against that map's base (gateway/ds/syncdata.py, conflicts.py), and
under a field filter pairing compares the client's copy with our items' filtered views
(gateway/ds/fieldfilter.py), on the fake and the SQLite store."""

from __future__ import annotations

from gateway.content.vformat import parse
from gateway.ds.server.session import aside_device
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Filter
from tests.ds.test_filter_sync import VCARD, FilterClient, _wanted, count, put, stored
from tests.ds.test_merge_base import (
    DEVICE, DS, FULL, USER, base_of, first_sync, guid_of,
)
from tests.ds.test_sync_flow import server_change, server_items

NO_HOME = FULL.replace("TEL;TYPE=HOME:+15550199\r\n", "")
SERVER_NOTE = FULL.replace("NOTE:old", "NOTE:server")


def _assert_deleted_tel_and_server_note(data: str) -> None:
    assert "+15550199" not in data and "+15550100" in data
    assert "NOTE:server" in data and "NOTE:old" not in data


def test_slow_sync_merges_a_differing_pair_against_the_old_base(store):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, SERVER_NOTE)
    c.items["c1"] = NO_HOME                  # the client deletes a TEL, then slow-syncs
    c.sync(201)
    items = server_items(store)
    assert list(items) == [guid] and list(c.items) == ["c1"]
    _assert_deleted_tel_and_server_note(items[guid])
    _assert_deleted_tel_and_server_note(c.items["c1"])
    assert guid_of(store, "c1") == guid
    assert base_of(store, "c1") == c.items["c1"].encode()   # the merge result acknowledged
    with store.transaction() as tx:                          # the set-aside map is gone
        assert tx.get_map(aside_device(DEVICE), USER, DS) == {}


def test_without_the_old_base_the_same_slow_sync_merges_two_way(store):
    """The control: a pair whose old mapping lost its base gets the TEL back."""
    c, guid = first_sync(store)
    with store.transaction() as tx:
        tx.put_bases(DEVICE, USER, DS, [("c1", guid, None)])
    server_change(store, "replace", guid, SERVER_NOTE)
    c.items["c1"] = NO_HOME
    c.sync(201)
    items = server_items(store)
    assert list(items) == [guid]
    assert "+15550199" in items[guid]          # two-way: the deleted TEL comes back


def _bases_seen(store, client, device, guid, mode=201):
    """Runs a sync of ``client``; returns the base of c1 -> guid under ``device`` as
    each of the server's transactions began while the old map was set aside."""
    seen, original = [], store.transaction

    def spy():
        with type(store).transaction(store) as tx:
            if tx.get_map(aside_device(DEVICE), USER, DS):
                seen.append(tx.get_base(device, USER, DS, "c1", guid))
        return original()
    store.transaction = spy
    try:
        client.sync(mode)
    finally:
        store.transaction = original
    return seen


def test_set_aside_map_rows_keep_their_bases(store):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, SERVER_NOTE)
    c.items["c1"] = NO_HOME
    c.items["c2"] = FULL.replace("John", "Jane")
    c.items_per_message = 1                 # c2 comes in a message after the move aside
    assert FULL.encode() in _bases_seen(store, c, aside_device(DEVICE), guid)


def test_an_identical_pair_keeps_its_base(store):
    c, guid = first_sync(store)
    c.sync(201)
    assert list(server_items(store)) == [guid] and list(c.items) == ["c1"]
    assert guid_of(store, "c1") == guid and base_of(store, "c1") == FULL.encode()


def test_an_identical_pair_without_a_base_gets_one(store):
    c, guid = first_sync(store)
    with store.transaction() as tx:
        tx.put_bases(DEVICE, USER, DS, [("c1", guid, None)])
    assert base_of(store, "c1") is None
    c.sync(201)
    assert list(server_items(store)) == [guid]
    assert base_of(store, "c1") == FULL.encode()


def test_server_wins_slow_sync_keeps_the_old_base_until_acknowledged(store):
    c, guid = first_sync(store, policy="server-wins")
    server_change(store, "replace", guid, SERVER_NOTE)
    c.items["c1"] = NO_HOME
    seen = _bases_seen(store, c, DEVICE, guid)
    assert FULL.encode() in seen            # the new row has the old base until the ack
    assert server_items(store) == {guid: SERVER_NOTE}
    assert c.items == {"c1": SERVER_NOTE}
    assert base_of(store, "c1") == SERVER_NOTE.encode()     # what the client accepted


def test_a_later_normal_sync_still_merges_three_way(store):
    c, guid = first_sync(store)
    server_change(store, "replace", guid, SERVER_NOTE)
    c.items["c1"] = NO_HOME
    c.sync(201)
    merged = c.items["c1"]
    server_change(store, "replace", guid, merged.replace("EMAIL:j@example.com\r\n", ""))
    c.sync(200, replaces=[("c1", merged.replace("NOTE:server", "NOTE:client"))])
    data = server_items(store)[guid]
    assert "EMAIL" not in data and "NOTE:client" in data and "+15550199" not in data


# -- field filter -------------------------------------------------------------------------------
PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD\r\n"


def _card(name: str, photo: str = "") -> bytes:
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:{name};;;;\r\nFN:{name}\r\n"
            f"TEL:+1555{len(name):04d}\r\n{photo}END:VCARD\r\n").encode()


def _filter_client(make_server, device="fresh-phone"):
    return FilterClient(make_server(), device_id=device, alert_filter=Filter(
        meta=Meta(type=VCARD), field=_wanted("N", "FN", "TEL")))


def test_field_filter_slow_sync_pairs_a_uid_less_contact_and_keeps_its_photo(make_server,
                                                                             store):
    guid = put(store, "contacts", _card("ann", PHOTO), VCARD)
    other = put(store, "contacts", _card("bob", PHOTO), VCARD)
    client = _filter_client(make_server)
    client.items = {"x1": _card("ann").decode(), "x2": _card("carol").decode()}
    client.sync(201)
    assert count(store, "contacts") == 3          # ann paired; carol new; bob sent
    card = parse(stored(store, "contacts", guid))
    assert card.value("FN") == "ann"
    assert card.value("PHOTO") == "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"
    with store.transaction() as tx:
        mapped = tx.get_map("fresh-phone", "alice", "contacts")
    assert mapped["x1"] == guid and mapped["x2"] not in (guid, other)
    assert len(client.items) == 3
    assert all("PHOTO" not in data for data in client.items.values())


def test_field_filter_pairs_each_server_item_once(make_server, store):
    guid = put(store, "contacts", _card("ann", PHOTO), VCARD)
    client = _filter_client(make_server)
    client.items = {"x1": _card("ann").decode(), "x2": _card("ann").decode()}
    client.sync(201)
    assert count(store, "contacts") == 2          # the second copy is an item of its own
    with store.transaction() as tx:
        mapped = tx.get_map("fresh-phone", "alice", "contacts")
    assert sorted(mapped) == ["x1", "x2"] and guid in mapped.values()
    assert parse(stored(store, "contacts", guid)).value("PHOTO") is not None


def test_without_a_field_filter_a_copy_lacking_the_photo_is_not_paired(make_server, store):
    put(store, "contacts", _card("ann", PHOTO), VCARD)
    client = FilterClient(make_server(), device_id="fresh-phone")
    client.items = {"x1": _card("ann").decode()}
    client.sync(201)
    assert count(store, "contacts") == 2



CALENDAR = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y\r\nBEGIN:VTIMEZONE\r\n"
            "TZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
            "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
            "BEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Review\r\nLOCATION:Room 1\r\n"
            "DESCRIPTION:long text\r\nDTSTART:20240615T100000Z\r\nBEGIN:VALARM\r\n"
            "ACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def test_view_print_is_the_fingerprint_of_what_strip_sends():
    from gateway.content.vformat import serialize
    from gateway.ds import contentops, fieldfilter
    samples = [
        (_card("ann", PHOTO + "item1.EMAIL;TYPE=work:a@example.com\r\nNOTE:n\r\n"),
         "text/vcard", ["N", "FN", "TEL"], ["N", "FN", "EMAIL", "NOTE", "PHOTO"]),
        (CALENDAR.encode(), "text/calendar", ["SUMMARY", "DTSTART"],
         ["SUMMARY", "DTSTART", "VALARM", "LOCATION"]),
    ]
    for data, ct, *wanted in samples:
        data = serialize(parse(data))
        for names in wanted:
            allowed = frozenset(names)
            sent = fieldfilter.strip(data, allowed)
            assert fieldfilter.view_print(data, ct, ct, allowed) == contentops.fingerprint(sent)
            assert fieldfilter.view_print(sent, ct, ct, allowed) == contentops.fingerprint(sent)
        assert fieldfilter.strip(data, frozenset(wanted[0])) != data   # the filter drops some


# A vCard 2.1 NOTE in quoted-printable, broken over two lines by a soft line break ("="
# at the end of the line): one logical line, which strip() sends broken elsewhere.
QP_CARD = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Ann;;;;\r\nFN:Ann\r\nTEL:+15550001\r\n"
           b"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Erste Zeile=0D=0Azweite Zeile mi=\r\n"
           b"t Umlaut =C3=A4 und noch mehr Text\r\n"
           b"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD\r\nEND:VCARD\r\n")
QP_WANTED = ("N", "FN", "TEL", "NOTE")


def test_view_print_reads_a_quoted_printable_soft_break_as_one_line():
    from gateway.ds import contentops, fieldfilter
    allowed = frozenset(QP_WANTED)
    sent = fieldfilter.strip(QP_CARD, allowed)
    assert b"PHOTO" not in sent and b"=\r\n" in sent      # re-broken, at another place
    assert sent.split(b"=\r\n")[0] != QP_CARD.split(b"=\r\n")[0]
    assert fieldfilter.view_print(QP_CARD, VCARD, VCARD, allowed) == contentops.fingerprint(sent)
    assert fieldfilter.view_print(sent, VCARD, VCARD, allowed) == contentops.fingerprint(sent)
    unbroken = QP_CARD.replace(b"=\r\n", b"")
    assert contentops.fingerprint(unbroken) == contentops.fingerprint(QP_CARD)


def test_field_filter_slow_sync_pairs_a_quoted_printable_note_broken_elsewhere(make_server,
                                                                              store):
    from gateway.ds import fieldfilter
    guid = put(store, "contacts", QP_CARD, VCARD)
    client = FilterClient(make_server(), device_id="old-phone", alert_filter=Filter(
        meta=Meta(type=VCARD), field=_wanted(*QP_WANTED)))
    client.items = {"x1": fieldfilter.strip(QP_CARD, frozenset(QP_WANTED)).decode()}
    client.sync(201)
    assert count(store, "contacts") == 1                  # paired, not a duplicate
    with store.transaction() as tx:
        assert tx.get_map("old-phone", "alice", "contacts") == {"x1": guid}
    card = parse(stored(store, "contacts", guid))
    assert card.value("PHOTO") == "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"
    assert "zweite Zeile mit Umlaut \u00e4" in card.value("NOTE")


def test_fingerprints_of_the_previous_definition_are_computed_anew(tmp_path):
    """A database from before step 4: an item stored with a fingerprint of the previous
    definition (which read the soft break as two lines) still pairs on a slow sync."""
    import sqlite3

    from gateway.ds.server.handler import SyncServer
    from gateway.ds.settings import ServerSettings
    from gateway.store import schema
    from gateway.store.accounts import make_secret
    from gateway.store.base import Account
    from gateway.store.sqlite.store import SQLiteStore
    from tests.ds.simclient import SimClient

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    steps = schema.load_steps("sqlite")
    assert [s.version for s in steps][:4] == [1, 2, 3, 4]
    schema.upgrade_sqlite(conn, steps[:3])
    conn.execute("INSERT INTO datastores (id, username, name, rev) VALUES (1, 'alice', "
                 "'contacts', 1)")
    conn.execute("INSERT INTO items (id, ds_id, rev, content_type, data, fingerprint) "
                 "VALUES (7, 1, 1, ?, ?, 'previous-definition')", (VCARD, QP_CARD))
    conn.close()
    store = SQLiteStore(path)
    try:
        with store.transaction() as tx:
            tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
            [old] = tx.list_items_without_fingerprint("alice", "contacts")
        client = SimClient(SyncServer(ServerSettings(), store), device_id="new-phone")
        client.items = {"x1": QP_CARD.replace(b"=\r\n", b"").decode()}
        client.sync(201)
        assert count(store, "contacts") == 1
        with store.transaction() as tx:
            assert tx.get_map("new-phone", "alice", "contacts") == {"x1": old.guid}
            assert tx.list_items_without_fingerprint("alice", "contacts") == []
    finally:
        store.close()
