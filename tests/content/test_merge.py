"""Field-level merge on conflicts and content equality for slow sync."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_samples import funambol_large_vcard, p900_vcalendars, syncevolution_vcards
from gateway.content import vcalendar, vcard
from gateway.content.merge import merge, same_content
from gateway.content.vcard import normalise_tel
from gateway.content.vformat import parse

SERVER_30 = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//server//EN\r\nREV:20240101T000000Z\r\nUID:srv-1\r\n"
    b"N:Doe;John;;;\r\nFN:John Doe\r\nTEL;TYPE=CELL:+1 555-0100\r\nEMAIL;TYPE=INTERNET:John@Example.com\r\n"
    b"CATEGORIES:Work,Friends\r\nBDAY:1970-01-02\r\nTITLE:\r\nEND:VCARD\r\n"
)
CLIENT_21 = (
    b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Johnny\r\nFN:Johnny Doe\r\nTEL;CELL:+15550100\r\n"
    b"TEL;HOME:+1 (555) 0199\r\nEMAIL;INTERNET:john@example.com\r\nCATEGORIES:Golf,work\r\n"
    b"TITLE:Engineer\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab\r\nEND:VCARD\r\n"
)


def test_merge_prefer_server_keeps_server_version_and_values():
    card = parse(merge(SERVER_30, CLIENT_21, "text/vcard", "server"))
    assert card.version == "3.0"
    assert (card.value("N"), card.value("FN")) == ("Doe;John;;;", "John Doe")
    assert [t.value for t in card.all("TEL")] == ["+1 555-0100", "+1 (555) 0199"]  # +15550100 is a duplicate
    assert [e.value for e in card.all("EMAIL")] == ["John@Example.com"]  # case-insensitive duplicate
    assert card.value("CATEGORIES") == "Work,Friends,Golf"
    assert card.value("TITLE") == "Engineer"  # empty on the preferred side counts as absent
    assert card.value("NOTE") == "a\\nb"  # taken from the 2.1 side, now 3.0-escaped
    assert (card.value("UID"), card.value("BDAY")) == ("srv-1", "1970-01-02")
    assert [p.name for p in card.properties].index("TEL") + 1 == [p.name for p in card.properties].index("TEL", 7)


def test_merge_prefer_client_keeps_client_version_and_values():
    card = parse(merge(SERVER_30, CLIENT_21, "text/x-vcard", "client"))
    assert card.version == "2.1"
    assert (card.value("N"), card.value("FN")) == ("Doe;Johnny", "Johnny Doe")
    assert len(card.all("TEL")) == 2
    assert card.value("CATEGORIES") == "Golf,work,Friends"
    assert card.value("BDAY") == "1970-01-02"
    assert card.value("UID") == "srv-1"
    assert card.value("NOTE") == "a\r\nb" and card.first("NOTE").encoding == "QUOTED-PRINTABLE"


def test_merge_rejects_bad_preference():
    with pytest.raises(ValueError):
        merge(SERVER_30, CLIENT_21, "text/vcard", "newest")


def test_merge_with_itself_is_the_same_content():
    for data in (SERVER_30, CLIENT_21, funambol_large_vcard()):
        merged = merge(data, data, "text/x-vcard", "client")
        assert same_content(merged, data, "text/x-vcard")


def test_merge_funambol_large_object_with_edited_copy():
    data = funambol_large_vcard()
    edited = vcard.to_version(data, "3.0").replace(b"TEL;TYPE=CELL:+39 328759222", b"TEL;TYPE=CELL:+39 111")
    card = parse(merge(data, edited, "text/x-vcard", "server"))
    assert [t.value for t in card.all("TEL")] == ["+39 328759222", "+39 111"]
    assert card.value("PHOTO") == parse(data).value("PHOTO")
    assert card.value("NOTE") == parse(data).value("NOTE")


def test_merge_calendar_items_across_versions():
    server = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//s//EN\r\nBEGIN:VEVENT\r\nUID:667\r\nSUMMARY:Server title\r\n"
        b"DTSTART:20061222T110000Z\r\nDTEND:20061222T120000Z\r\nATTENDEE:mailto:a@example.com\r\n"
        b"LOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = p900_vcalendars()[0]  # vCalendar 1.0 with an AALARM
    merged = parse(merge(server, client, "text/calendar", "server"))
    assert merged.version == "2.0"
    (event,) = merged.sub("VEVENT")
    assert event.value("SUMMARY") == "Server title"
    assert event.value("LOCATION") == "Room 1"
    assert event.value("X-EPOCAGENDAENTRYTYPE") == "APPOINTMENT"
    assert [a.value("TRIGGER") for a in event.sub("VALARM")] == ["-PT10M"]  # server had none
    merged = parse(merge(server, client, "text/x-vcalendar", "client"))
    assert merged.version == "1.0"
    (event,) = merged.sub("VEVENT")
    assert event.value("SUMMARY") == "client1 12-1"
    assert event.value("LOCATION") == "Room 1"
    assert event.value("ATTENDEE") == "a@example.com"


def test_merge_plain_notes_takes_preferred_side():
    assert merge(b"server text", b"client text", "text/plain", "client") == b"client text"
    assert merge(b"server text", b"client text", "text/plain", "server") == b"server text"


def test_same_content_ignores_order_folding_escaping_and_bookkeeping():
    a = SERVER_30
    b = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:John \n Doe\nN:Doe;John\nTEL;type=cell:+1 555 0100\n"
        b"EMAIL:John@Example.com\nCATEGORIES:Friends,Work\nBDAY:19700102\nREV:20990101T000000Z\n"
        b"UID:other\nPRODID:-//client//EN\nEND:VCARD\n"
    )
    assert same_content(a, b, "text/vcard")
    assert not same_content(a, b.replace(b"0100", b"0101"), "text/vcard")
    assert not same_content(a, b.replace(b"FN:John", b"FN:Jon"), "text/vcard")
    assert not same_content(a, b.replace(b"type=cell", b"type=home"), "text/vcard")


def test_same_content_across_vcard_versions():
    three = SERVER_30
    two = vcard.to_version(three, "2.1")
    assert same_content(three, two, "text/vcard")
    for data in syncevolution_vcards():
        assert same_content(data, vcard.to_version(data, "2.1"), "text/x-vcard")
    cards = syncevolution_vcards()
    assert not same_content(cards[0], cards[1], "text/vcard")
    assert same_content(funambol_large_vcard(), vcard.to_version(funambol_large_vcard(), "3.0"), "text/x-vcard")


def test_same_content_across_calendar_versions():
    for data in p900_vcalendars():
        two = vcalendar.to_version(data, "2.0")
        assert same_content(data, two, "text/calendar")
        assert same_content(two, data, "text/x-vcalendar")
    first, second, _ = p900_vcalendars()
    assert not same_content(first, second, "text/calendar")


def test_same_content_notes():
    assert same_content(b"a\r\nb\r\n", b"a\nb", "text/plain")
    vnote = b"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab\r\nEND:VNOTE\r\n"
    assert same_content(vnote, b"a\nb", "text/x-vnote")
    assert not same_content(vnote, b"a\nc", "text/x-vnote")


_phone = st.from_regex(r"\+?[0-9]{3,6}([ -]?[0-9]{2,4}){0,2}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(_phone, max_size=4), st.lists(_phone, max_size=4), st.sampled_from(["client", "server"]))
def test_merge_keeps_every_number_once(server_tels, client_tels, prefer):
    def card(tels, version):
        lines = [b"BEGIN:VCARD", b"VERSION:" + version, b"FN:x"] + [b"TEL:" + t.encode() for t in tels]
        return b"\r\n".join(lines + [b"END:VCARD", b""])

    merged = parse(merge(card(server_tels, b"3.0"), card(client_tels, b"2.1"), "text/vcard", prefer))
    got = [normalise_tel(t.value) for t in merged.all("TEL")]
    assert set(got) == {normalise_tel(t) for t in server_tels + client_tels}
    first = [normalise_tel(t) for t in (client_tels if prefer == "client" else server_tels)]
    assert got[: len(first)] == first  # the preferred side's numbers, as they were
    added = got[len(first) :]
    assert len(added) == len(set(added)) and not set(added) & set(first)


_junk_line = st.one_of(
    st.sampled_from(
        [
            b"VERSION:2.1", b"VERSION:3.0", b"VERSION:1.0", b"VERSION:2.0", b"BEGIN:VEVENT", b"END:VEVENT",
            b"BEGIN:VALARM", b"END:VALARM", b"DTSTART:2024", b"DTSTART;VALUE=DATE:20240230", b"DTEND:20240101T250000",
            b"AALARM:;;;", b"DALARM:x;y;z", b"TRIGGER:P", b"RRULE:W0 #x", b"RRULE:FREQ=;COUNT=a", b"EXDATE:,;",
            b"N:;;;", b"TEL;CELL:", b"PHOTO;ENCODING=BASE64:!!", b"NOTE;QUOTED-PRINTABLE:=ZZ=", b"PRIORITY:99",
            b"CATEGORIES:\\,;,", b"STATUS:", b"ATTENDEE;ROLE=OWNER:", b"ACTION:DISPLAY", b"TRIGGER;RELATED=END:-PT5M",
        ]
    ),
    st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([b"VCARD", b"VCALENDAR", b"VNOTE"]), st.lists(_junk_line, max_size=12), st.lists(_junk_line, max_size=12))
def test_junk_items_raise_only_content_error(kind, lines_a, lines_b):
    from gateway.content.convert import convert
    from gateway.content.errors import ContentError

    a = b"\r\n".join([b"BEGIN:" + kind, *lines_a, b"END:" + kind])
    b = b"\r\n".join([b"BEGIN:" + kind, *lines_b])
    types = {b"VCARD": ["text/x-vcard", "text/vcard"], b"VCALENDAR": ["text/x-vcalendar", "text/calendar"],
             b"VNOTE": ["text/x-vnote", "text/plain"]}[kind]
    for source, target in (types, types[::-1]):
        for data in (a, b):
            try:
                convert(data, source, target)
            except ContentError:
                pass
        try:
            merge(a, b, source, "client")
            same_content(a, b, source)
        except ContentError:
            pass
