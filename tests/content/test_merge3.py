"""Three-way merge (gateway.content.merge.merge3): unit cases per format and a
reference model checked with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_samples import funambol_large_vcard, p900_vcalendars, syncevolution_vcards
from gateway.content import vcalendar, vcard
from gateway.content.errors import ContentError
from gateway.content.merge import merge, merge3, same_content
from gateway.content.vcard import normalise_tel
from gateway.content.vformat import parse


def card(*lines: str, version: str = "3.0") -> bytes:
    return ("\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])).encode()


BASE = card("N:Doe;John;;;", "FN:John Doe", "TEL;TYPE=CELL:+1 555 0100",
            "TEL;TYPE=HOME:+1 555 0199", "EMAIL:john@example.com", "NOTE:old note",
            "CATEGORIES:Work,Friends")


def tels(data: bytes) -> set[str]:
    return {normalise_tel(p.value) for p in parse(data).all("TEL")}


def values(data: bytes, name: str) -> list[str]:
    return [p.value for p in parse(data).all(name)]


# -- vCard -----------------------------------------------------------------------------
@pytest.mark.parametrize("prefer", ["client", "server"])
def test_deleted_number_stays_deleted_and_the_other_sides_edit_arrives(prefer):
    client = BASE.replace(b"TEL;TYPE=HOME:+1 555 0199\r\n", b"")
    server = BASE.replace(b"NOTE:old note", b"NOTE:server note")
    got = merge3(BASE, server, client, "text/vcard", prefer)
    assert tels(got) == {"+15550100"}
    assert values(got, "NOTE") == ["server note"]
    # the two-way merge brings the number back: what merge3 exists to avoid
    assert "+15550199" in tels(merge(server, client, "text/vcard", prefer))


def test_both_sides_add_different_emails_both_kept():
    server = BASE.replace(b"NOTE:old note", b"EMAIL:s@example.com\r\nNOTE:old note")
    client = BASE.replace(b"NOTE:old note", b"EMAIL:c@example.com\r\nNOTE:old note")
    got = merge3(BASE, server, client, "text/vcard", "client")
    assert values(got, "EMAIL") == ["john@example.com", "c@example.com", "s@example.com"]


@pytest.mark.parametrize("prefer", ["client", "server"])
def test_both_sides_change_fn_prefer_side_wins(prefer):
    server = BASE.replace(b"FN:John Doe", b"FN:Johnny Doe")
    client = BASE.replace(b"FN:John Doe", b"FN:J. Doe")
    got = merge3(BASE, server, client, "text/vcard", prefer)
    assert values(got, "FN") == (["J. Doe"] if prefer == "client" else ["Johnny Doe"])


@pytest.mark.parametrize("prefer", ["client", "server"])
def test_removed_on_one_side_edited_on_the_other_keeps_the_edit(prefer):
    server = BASE.replace(b"NOTE:old note\r\n", b"")                   # removed
    client = BASE.replace(b"NOTE:old note", b"NOTE:new note")          # edited
    assert values(merge3(BASE, server, client, "text/vcard", prefer), "NOTE") == ["new note"]
    assert values(merge3(BASE, client, server, "text/vcard", prefer), "NOTE") == ["new note"]
    # a number re-typed on one side and deleted on the other is kept, re-typed
    server = BASE.replace(b"TEL;TYPE=HOME:+1 555 0199", b"TEL;TYPE=WORK:+1 555 0199")
    client = BASE.replace(b"TEL;TYPE=HOME:+1 555 0199\r\n", b"")
    got = parse(merge3(BASE, server, client, "text/vcard", prefer))
    assert [(t.value, t.types) for t in got.all("TEL")][-1] == ("+1 555 0199", {"WORK"})


def test_removed_on_one_side_unchanged_on_the_other_is_removed():
    server = BASE.replace(b"NOTE:old note\r\n", b"").replace(b"CATEGORIES:Work,Friends",
                                                             b"CATEGORIES:Work")
    got = merge3(BASE, server, BASE, "text/vcard", "client")
    assert values(got, "NOTE") == [] and values(got, "CATEGORIES") == ["Work"]


def test_categories_items_merge_three_way():
    server = BASE.replace(b"CATEGORIES:Work,Friends", b"CATEGORIES:Work,Friends,Golf")
    client = BASE.replace(b"CATEGORIES:Work,Friends", b"CATEGORIES:Friends")
    got = merge3(BASE, server, client, "text/vcard", "client")
    assert values(got, "CATEGORIES") == ["Friends,Golf"]


def test_formatting_only_differences_are_no_change():
    client = BASE.replace(b"+1 555 0100", b"+15550100").replace(b"john@", b"JOHN@")
    server = BASE.replace(b"FN:John Doe", b"FN:Johnny Doe")
    got = merge3(BASE, server, client, "text/vcard", "client")
    assert values(got, "FN") == ["Johnny Doe"]
    assert tels(got) == tels(BASE) and len(values(got, "TEL")) == 2


def test_nothing_to_take_returns_the_preferred_bytes():
    client = BASE.replace(b"FN:John Doe", b"FN:J. Doe")
    assert merge3(BASE, BASE, client, "text/vcard", "client") == client
    server = card("N:Doe;John;;;", "FN:John Doe", "TEL;TYPE=CELL:+1 555 0100",
                  "TEL;TYPE=HOME:+1 555 0199", "EMAIL:john@example.com", "NOTE:old note",
                  "CATEGORIES:Work,Friends")       # reformatted base
    assert merge3(BASE, server, client, "text/vcard", "client") == client


def test_bookkeeping_comes_from_the_preferred_side_else_the_other():
    server = BASE.replace(b"NOTE:old note", b"UID:srv-1\r\nREV:20240101T000000Z\r\nNOTE:old note")
    client = BASE.replace(b"FN:John Doe", b"FN:J. Doe")
    got = parse(merge3(BASE, server, client, "text/vcard", "client"))
    assert (got.value("UID"), got.value("FN")) == ("srv-1", "J. Doe")


def test_vcard_21_client_against_30_server_and_base():
    client = vcard.to_version(BASE, "2.1").replace(b"TEL;HOME:+1 555 0199\r\n", b"")
    assert b"TEL;CELL" in client and b"0199" not in client
    server = BASE.replace(b"NOTE:old note", b"NOTE:line 1\\nline 2")
    for prefer, version in (("client", "2.1"), ("server", "3.0")):
        got = merge3(BASE, server, client, "text/x-vcard", prefer)
        assert parse(got).version == version
        assert tels(got) == {"+15550100"}
        assert same_content(parse_note(got), b"line 1\nline 2", "text/plain")


def parse_note(data: bytes) -> bytes:
    from gateway.content.escaping import unescape
    from gateway.content.model import is_legacy
    item = parse(data)
    return unescape(item.value("NOTE"), legacy=is_legacy(item.version)).encode()


def test_large_vcard_with_photo_edited_on_both_sides():
    data = funambol_large_vcard()
    three = vcard.to_version(data, "3.0")
    server = three.replace(b"TEL;TYPE=CELL:+39 328759222", b"TEL;TYPE=CELL:+39 111")
    client = data.replace(b"\nN:", b"\nN:X", 1)
    got = parse(merge3(data, server, client, "text/x-vcard", "client"))
    assert got.version == "2.1"
    assert "+39 111" in [t.value for t in got.all("TEL")]
    assert "+39 328759222" not in [t.value for t in got.all("TEL")]
    assert got.value("N").startswith("X") and got.value("PHOTO") == parse(data).value("PHOTO")


# -- no base ------------------------------------------------------------------------------
@pytest.mark.parametrize("base", [None, b"garbage \x00", card("FN:x").replace(b"VCARD", b"VNOTE")])
def test_without_a_usable_base_it_is_the_two_way_merge(base):
    server = BASE.replace(b"NOTE:old note", b"NOTE:server")
    client = BASE.replace(b"TEL;TYPE=HOME:+1 555 0199\r\n", b"")
    assert merge3(base, server, client, "text/vcard", "client") == merge(
        server, client, "text/vcard", "client")


def test_bad_preference_and_bad_preferred_side():
    with pytest.raises(ValueError):
        merge3(BASE, BASE, BASE, "text/vcard", "newest")
    with pytest.raises(ContentError):
        merge3(BASE, BASE, b"not a card", "text/vcard", "client")


# -- calendars ---------------------------------------------------------------------------
def cal(*events: list[str], version: str = "2.0") -> bytes:
    lines = ["BEGIN:VCALENDAR", f"VERSION:{version}"]
    for ev in events:
        lines += ["BEGIN:VEVENT", *ev, "END:VEVENT"]
    return ("\r\n".join(lines + ["END:VCALENDAR", ""])).encode()


EVENT = ["UID:e1", "SUMMARY:Meeting", "LOCATION:Room 1", "DTSTART:20240105T100000Z",
         "DTEND:20240105T110000Z", "ATTENDEE:mailto:a@example.com",
         "ATTENDEE:mailto:b@example.com"]


def test_icalendar_event_merged_per_property():
    base = cal(EVENT)
    server = cal([*EVENT[:2], "LOCATION:Room 2", *EVENT[3:]])
    client = cal([*EVENT[:6], "DESCRIPTION:agenda"])            # b@ removed, DESCRIPTION added
    (event,) = parse(merge3(base, server, client, "text/calendar", "client")).sub("VEVENT")
    assert event.value("LOCATION") == "Room 2" and event.value("DESCRIPTION") == "agenda"
    assert [a.value for a in event.all("ATTENDEE")] == ["mailto:a@example.com"]


def test_icalendar_exception_added_and_deleted_per_component():
    rid = ["UID:e1", "RECURRENCE-ID:20240112T100000Z", "SUMMARY:Moved"]
    base = cal(EVENT, rid)
    server = cal(EVENT, rid, ["UID:e1", "RECURRENCE-ID:20240119T100000Z", "SUMMARY:Other"])
    client = cal(EVENT)                                           # the exception deleted
    got = parse(merge3(base, server, client, "text/calendar", "client"))
    assert [e.value("RECURRENCE-ID") for e in got.sub("VEVENT")] == [None, "20240119T100000Z"]
    # edited on the other side: the deleted exception is kept, edited
    server = cal(EVENT, [*rid[:2], "SUMMARY:Moved again"])
    got = parse(merge3(base, server, client, "text/calendar", "client"))
    assert [e.value("SUMMARY") for e in got.sub("VEVENT")] == ["Meeting", "Moved again"]


def test_icalendar_alarm_changes():
    alarm = ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT10M", "END:VALARM"]
    base = cal([*EVENT, *alarm])
    client = cal(EVENT)                                           # alarm removed
    server = cal([*EVENT[:1], "SUMMARY:Meeting!", *EVENT[2:], *alarm])
    (event,) = parse(merge3(base, server, client, "text/calendar", "client")).sub("VEVENT")
    assert event.sub("VALARM") == () and event.value("SUMMARY") == "Meeting!"


def test_vcalendar_10_client_against_icalendar_server():
    client = p900_vcalendars()[0]
    base = client
    server = vcalendar.to_version(client, "2.0")
    server = server.replace(b"SUMMARY:", b"SUMMARY:Server ", 1)
    (orig,) = parse(client).sub("VEVENT")
    edited_client = client.replace(b"LOCATION:", b"LOCATION:Hall ", 1) if b"LOCATION:" in client \
        else client.replace(b"END:VEVENT", b"LOCATION:Hall\r\nEND:VEVENT", 1)
    got = parse(merge3(base, server, edited_client, "text/x-vcalendar", "client"))
    assert got.version == "1.0"
    (event,) = got.sub("VEVENT")
    assert event.value("SUMMARY") == "Server " + orig.value("SUMMARY")
    assert event.value("LOCATION").startswith("Hall")


# -- notes --------------------------------------------------------------------------------
def test_plain_notes_take_the_changed_side_else_the_preferred():
    assert merge3(b"a", b"a", b"client", "text/plain", "server") == b"client"
    assert merge3(b"a", b"server", b"a\r\n", "text/plain", "client") == b"server"
    assert merge3(b"a", b"server", b"client", "text/plain", "client") == b"client"
    assert merge3(b"a", b"server", b"client", "text/plain", "server") == b"server"


def test_vnotes_merge_per_property():
    def note(body, cats):
        return (f"BEGIN:VNOTE\r\nVERSION:1.1\r\nBODY:{body}\r\nCATEGORIES:{cats}\r\n"
                "END:VNOTE\r\n").encode()
    got = parse(merge3(note("hi", "A"), note("hi", "A;B"), note("hello", "A"),
                       "text/x-vnote", "client"))
    assert (got.value("BODY"), got.value("CATEGORIES")) == ("hello", "A;B")


def test_real_vcards_merge_with_themselves():
    for data in syncevolution_vcards():
        for prefer in ("client", "server"):
            assert merge3(data, data, data, "text/vcard", prefer) == data


# -- a reference model, checked with hypothesis ------------------------------------------
SINGLE = ("ROLE", "NOTE", "TITLE", "ORG")
MULTI = {"TEL": ["+1 555 0100", "+1 555 0101", "+44 20 7946 0000", "555-0199"],
         "EMAIL": ["a@example.com", "b@example.org", "c@example.net"]}
TEL_TYPE = {"+1 555 0100": "CELL", "+1 555 0101": "HOME", "+44 20 7946 0000": "WORK",
            "555-0199": "CELL"}
CATEGORIES = ["Work", "Friends", "Golf", "Family"]
TEXTS = ["alpha", "beta", "gamma"]

models = st.fixed_dictionaries({
    **{name: st.one_of(st.none(), st.sampled_from(TEXTS)) for name in SINGLE},
    **{name: st.frozensets(st.sampled_from(pool)) for name, pool in MULTI.items()},
    "CATEGORIES": st.frozensets(st.sampled_from(CATEGORIES)),
})


def render(model: dict, version: str = "3.0") -> bytes:
    lines = ["N:Doe;John;;;", "FN:John Doe"]
    for name in SINGLE:
        if model[name] is not None:
            lines.append(f"{name}:{model[name]}")
    for number in sorted(model["TEL"]):
        kind = TEL_TYPE[number]
        lines.append(f"TEL;TYPE={kind}:{number}" if version == "3.0" else f"TEL;{kind}:{number}")
    lines += [f"EMAIL:{e}" for e in sorted(model["EMAIL"])]
    if model["CATEGORIES"]:
        lines.append("CATEGORIES:" + ",".join(sorted(model["CATEGORIES"])))
    return card(*lines, version=version)


def expected(base: dict, server: dict, client: dict, prefer: str) -> dict:
    pref, other = (client, server) if prefer == "client" else (server, client)
    out = {}
    for name in SINGLE:
        b, p, o = base[name], pref[name], other[name]
        if o in (b, p):
            out[name] = p
        elif p == b:
            out[name] = o
        else:
            out[name] = o if p is None else p
    for name in ("TEL", "EMAIL", "CATEGORIES"):
        b, p, o = base[name], pref[name], other[name]
        out[name] = frozenset(v for v in p | o | b if ((v in o) if (v in p) == (v in b) else (v in p)))
    return out


@settings(max_examples=300, deadline=None)
@given(models, models, models, st.sampled_from(["client", "server"]))
def test_merge3_follows_the_reference_model(base, server, client, prefer):
    got = merge3(render(base), render(server), render(client), "text/vcard", prefer)
    assert same_content(got, render(expected(base, server, client, prefer)), "text/vcard")


@settings(max_examples=150, deadline=None)
@given(models, models, models, st.sampled_from(["client", "server"]))
def test_merge3_with_a_vcard_21_client(base, server, client, prefer):
    got = merge3(render(base, "2.1"), render(server), render(client, "2.1"), "text/x-vcard", prefer)
    assert parse(got).version == ("2.1" if prefer == "client" else "3.0")
    assert same_content(got, render(expected(base, server, client, prefer)), "text/vcard")


@settings(max_examples=150, deadline=None)
@given(models, models, st.sampled_from(["client", "server"]))
def test_one_side_unchanged_gives_the_other(base, changed, prefer):
    b, x = render(base), render(changed)
    assert same_content(merge3(b, b, x, "text/vcard", prefer), x, "text/vcard")
    assert same_content(merge3(b, x, b, "text/vcard", prefer), x, "text/vcard")
    assert same_content(merge3(b, x, x, "text/vcard", prefer), x, "text/vcard")


@settings(max_examples=150, deadline=None)
@given(models, models, models)
def test_commutative_modulo_prefer(base, server, client):
    b, s, c = render(base), render(server), render(client)
    assert merge3(b, s, c, "text/vcard", "server") == merge3(b, c, s, "text/vcard", "client")
    assert merge3(b, s, c, "text/vcard", "client") == merge3(b, c, s, "text/vcard", "server")


@settings(max_examples=150, deadline=None)
@given(models, models, models, st.sampled_from(["client", "server"]))
def test_no_deletion_resurrected_no_addition_lost(base, server, client, prefer):
    got = parse(merge3(render(base), render(server), render(client), "text/vcard", prefer))
    numbers = {normalise_tel(t.value) for t in got.all("TEL")}
    for number in MULTI["TEL"]:
        n = normalise_tel(number)
        if number in base["TEL"] and number not in client["TEL"] and number in server["TEL"]:
            assert n not in numbers                   # deleted on the client: stays deleted
        if number not in base["TEL"] and (number in client["TEL"] or number in server["TEL"]):
            assert n in numbers                       # added on a side: kept
