"""The SyncEvolution harness against SyncEvolution's own server (real client, real server)."""
from __future__ import annotations

import base64
import re
from collections import Counter

import pytest

from tests.interop.syncevo import loopback_http_server
from tests.interop.vcards import make_vcards, normalize_vcard


def contacts(items: dict[str, bytes]) -> Counter:
    """Multiset of comparison keys: two stores hold the same contacts iff these are equal."""
    return Counter(normalize_vcard(data) for data in items.values())


@pytest.mark.interop
@pytest.mark.parametrize("wbxml", [False, True], ids=["xml-md5", "wbxml-md5"])
def test_slow_two_way_and_refresh_from_server(wbxml, syncevo_server, syncevo_client_factory):
    server = syncevo_server(["sc-dev-a", "sc-dev-b"], shared_store=True)
    alice = syncevo_client_factory(url=server.url, device_id="sc-dev-a", wbxml=wbxml, auth="md5")
    cards = make_vcards(20, seed=1, photo_bytes=3000 if wbxml else 0)
    alice.write_items(cards)

    slow = alice.sync("slow").check()
    assert slow.report["source-addressbook-mode"] == "slow"
    assert slow.stat("addressbook", "remote-added-total") == 20
    assert len(server.items("sc-dev-a")) == 20
    assert contacts(server.items("sc-dev-a")) == contacts(cards)

    names = sorted(cards)
    edited = re.sub(rb"TEL;TYPE=CELL:[^\r]*", b"TEL;TYPE=CELL:+4930123456", cards[names[0]])
    assert edited != cards[names[0]]
    alice.write_item(names[0], edited)
    alice.delete_item(names[1])
    alice.write_items(make_vcards(1, seed=2))
    two_way = alice.sync("two-way").check()
    assert two_way.report["source-addressbook-mode"] == "two-way"
    assert two_way.stat("addressbook", "remote-updated-total") == 1
    assert two_way.stat("addressbook", "remote-removed-total") == 1
    assert two_way.stat("addressbook", "remote-added-total") == 1
    assert len(server.items("sc-dev-a")) == 20
    assert contacts(server.items("sc-dev-a")) == contacts(alice.items())

    bob = syncevo_client_factory(url=server.url, device_id="sc-dev-b", wbxml=wbxml, auth="md5")
    refresh = bob.sync("refresh-from-server").check()
    assert refresh.report["source-addressbook-mode"] == "refresh-from-remote"
    assert refresh.stat("addressbook", "local-added-total") == 20
    assert contacts(bob.items()) == contacts(alice.items())


EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//omads//test//EN\r\nBEGIN:VEVENT\r\n"
         b"UID:ev-1@omads.test\r\nDTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\n"
         b"DTEND:20240105T110000Z\r\nSUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.mark.interop
def test_calendar_datastore_slow_sync(syncevo_server, syncevo_client_factory):
    calendar = {"database_format": "text/calendar", "datastore": "calendar", "uri": "calendar"}
    server = syncevo_server(["sc-cal"], **calendar)
    client = syncevo_client_factory(url=server.url, device_id="sc-cal", wbxml=False, **calendar)
    client.write_item("ev-1.ics", EVENT)
    result = client.sync("slow").check()
    assert result.stat("calendar", "remote-added-total") == 1
    [stored] = server.items("sc-cal").values()
    lines = set(stored.replace(b"\r\n", b"\n").split(b"\n"))
    assert {b"BEGIN:VEVENT", b"UID:ev-1@omads.test", b"SUMMARY:Planning",
            b"DTSTART:20240105T100000Z", b"DTEND:20240105T110000Z"} <= lines


def test_make_vcards_is_deterministic_and_distinct():
    cards = make_vcards(50, seed=7)
    assert cards == make_vcards(50, seed=7)
    assert cards != make_vcards(50, seed=8)
    assert len({normalize_vcard(c) for c in cards.values()}) == 50
    for card in cards.values():
        lines = card.split(b"\r\n")
        assert lines[0] == b"BEGIN:VCARD" and lines[1] == b"VERSION:3.0" and lines[-1] == b""
        assert b"\n" not in card.replace(b"\r\n", b"")
        for prop in (b"UID:", b"N:", b"FN:", b"TEL;", b"EMAIL;"):
            assert any(line.startswith(prop) for line in lines)


def test_make_vcards_photo_has_requested_size_and_folds():
    card = make_vcards(1, seed=3, photo_bytes=5000)["c3-000001.vcf"]
    assert all(len(line) <= 75 for line in card.split(b"\r\n"))
    unfolded = card.replace(b"\r\n ", b"")
    photo = re.search(rb"PHOTO;ENCODING=b;TYPE=JPEG:([^\r]*)", unfolded).group(1)
    assert len(base64.b64decode(photo)) == 5000


def test_normalize_vcard_ignores_what_syncevolution_changes():
    ours = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x-1\r\nN:Doe;John;;;\r\nFN:John Doe\r\n"
            b"TEL;TYPE=CELL,VOICE:+1555\r\nEMAIL;TYPE=INTERNET:j@example.org\r\n"
            b"PHOTO;ENCODING=b;TYPE=JPEG:" + base64.b64encode(b"\xff\xd8" * 60) + b"\r\nEND:VCARD\r\n")
    theirs = (b"BEGIN:VCARD\nVERSION:3.0\nPRODID:-//Synthesis AG//NONSGML//EN\n"
              b"REV:20100328T103410Z\nN:Doe;John\nX-EVOLUTION-FILE-AS:Doe\\, John\n"
              b"EMAIL;type=internet:j@example.org\nNOTE:\nORG:;;;\nFN:John\n  Doe\n"
              b"item1.TEL;TYPE=voice;TYPE=cell:+1555\n"
              b"PHOTO;ENCODING=B;TYPE=jpeg:" + base64.b64encode(b"\xff\xd8" * 60)[:40]
              + b"\n " + base64.b64encode(b"\xff\xd8" * 60)[40:] + b"\nEND:VCARD\n")
    assert normalize_vcard(ours) == normalize_vcard(theirs)
    assert normalize_vcard(ours) != normalize_vcard(ours.replace(b"+1555", b"+1556"))
    assert normalize_vcard(ours) != normalize_vcard(ours.replace(b"TYPE=CELL,", b"TYPE=HOME,"))


def test_normalize_vcard_decodes_vcard21_quoted_printable():
    v21 = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCl=\r\n"
           b"ler;Anna\r\nTEL;CELL:+1\r\nEND:VCARD\r\n")
    v30 = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Müller;Anna;;;\r\nTEL;TYPE=CELL:+1\r\nEND:VCARD\r\n"
    assert normalize_vcard(v21) == normalize_vcard(v30.encode())


def test_loopback_copy_of_the_http_server(tmp_path):
    text = loopback_http_server(tmp_path / "srv.py").read_text()
    assert text.startswith("#!/usr/bin/python3\n")
    assert "listenTCP(url.port, site, interface='127.0.0.1')" in text
    assert "@PYTHON@" not in text
