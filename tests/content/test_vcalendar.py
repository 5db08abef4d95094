"""vCalendar 1.0 <-> iCalendar 2.0, recurrence rules, alarms, UID look-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from content_samples import p900_vcalendars, synthesis_vtodo
from gateway.content import vcalendar
from gateway.content.caltime import format_duration, parse_duration, parse_time
from gateway.content.convert import convert, item_uid
from gateway.content.errors import ContentError
from gateway.content.rrule import rrule_10_to_20, rrule_20_to_10
from gateway.content.vformat import parse


def _item(data: bytes):
    cal = parse(data)
    return cal, next(c for c in cal.components if c.name in ("VEVENT", "VTODO"))


def test_p900_appointment_to_20():
    cal, event = _item(vcalendar.to_version(p900_vcalendars()[0], "2.0"))
    assert cal.version == "2.0" and cal.value("PRODID") == vcalendar.PRODID
    assert event.value("UID") == "667"
    assert (event.value("DTSTART"), event.value("DTEND")) == ("20061222T110000Z", "20061222T120000Z")
    assert event.value("CREATED") == "20061221T230000Z" and event.first("DCREATED") is None
    assert event.value("DTSTAMP") == "20061222T205000Z"  # from LAST-MODIFIED
    assert event.first("STATUS") is None  # NEEDS ACTION has no VEVENT meaning in 2.0
    assert event.value("X-EPOCAGENDAENTRYTYPE") == "APPOINTMENT"
    (alarm,) = event.sub("VALARM")
    assert alarm.value("ACTION") == "AUDIO"
    assert alarm.value("TRIGGER") == "-PT10M"
    assert event.first("AALARM") is None


def test_p900_all_day_event_hour_24():
    _, event = _item(vcalendar.to_version(p900_vcalendars()[1], "2.0"))
    assert event.first("DTSTART").params == (("VALUE", ("DATE",)),)
    assert (event.value("DTSTART"), event.value("DTEND")) == ("20061225", "20061226")
    assert event.value("DESCRIPTION") == "uumlaut: ü"
    _, back = _item(vcalendar.to_version(vcalendar.to_version(p900_vcalendars()[1], "2.0"), "1.0"))
    assert (back.value("DTSTART"), back.value("DTEND")) == ("20061225T000000", "20061225T235959")
    assert back.first("DESCRIPTION").charset == "UTF-8"


def test_p900_task_to_20():
    _, todo = _item(vcalendar.to_version(p900_vcalendars()[2], "2.0"))
    assert todo.name == "VTODO"
    assert todo.value("STATUS") == "NEEDS-ACTION"
    assert todo.value("PRIORITY") == "1"
    assert todo.value("CATEGORIES") == "X-65536"
    assert todo.value("DESCRIPTION") == "Aumlaut: Ä"
    assert todo.value("X-EPOCTODOLIST") == "To-do list"


def test_synthesis_vtodo_round_trip():
    data = synthesis_vtodo()
    two = convert(data, "text/x-vcalendar", "text/calendar")
    _, todo = _item(two)
    assert [(p.name, p.value) for p in todo.properties] == [
        ("SUMMARY", "client1"),
        ("CLASS", "PUBLIC"),
        ("DESCRIPTION", ""),
        ("PRIORITY", "1"),
        ("STATUS", "NEEDS-ACTION"),
    ]
    _, back = _item(convert(two, "text/calendar", "text/x-vcalendar"))
    original = _item(data)[1]
    assert back.properties == original.properties


def test_20_task_to_10():
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VTODO\r\nUID:t1\r\n"
        b"SUMMARY:Pay\\, then file\\; done\r\nDESCRIPTION:line1\\nline2\r\nDUE;VALUE=DATE:20240301\r\n"
        b"STATUS:COMPLETED\r\nCOMPLETED:20240302T101500Z\r\nPRIORITY:7\r\nCATEGORIES:Home,Money\r\n"
        b"CLASS:PRIVATE\r\nDTSTAMP:20240302T101500Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    cal, todo = _item(vcalendar.to_version(data, "1.0"))
    assert cal.version == "1.0"
    assert todo.value("SUMMARY") == "Pay, then file; done"
    assert todo.first("DESCRIPTION").encoding == "QUOTED-PRINTABLE"
    assert todo.value("DESCRIPTION") == "line1\r\nline2"
    assert todo.value("DUE") == "20240301T000000"
    assert todo.value("STATUS") == "COMPLETED"
    assert todo.value("COMPLETED") == "20240302T101500Z"
    assert todo.value("PRIORITY") == "3"
    assert todo.value("CATEGORIES") == "Home;Money"
    assert todo.value("CLASS") == "PRIVATE"
    assert todo.first("DTSTAMP") is None


def test_20_event_with_relative_alarm_and_rrule_to_10():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:Europe/Berlin\nEND:VTIMEZONE\n"
        b"BEGIN:VEVENT\nUID:e1\nDTSTART;TZID=Europe/Berlin:20240105T090000\nDTEND;TZID=Europe/Berlin:20240105T100000\n"
        b"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;UNTIL=20240331T000000Z\nEXDATE:20240119T090000,20240202T090000\n"
        b"ORGANIZER;CN=Boss:mailto:boss@example.com\nATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com\n"
        b"TRANSP:TRANSPARENT\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nDESCRIPTION:Stand-up\nEND:VALARM\n"
        b"BEGIN:VALARM\nACTION:AUDIO\nTRIGGER;RELATED=END:PT0S\nEND:VALARM\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    cal, event = _item(vcalendar.to_version(data, "1.0"))
    assert cal.sub("VTIMEZONE") == ()
    assert event.first("DTSTART").params == ()  # TZID dropped: floating local time
    assert event.value("DTSTART") == "20240105T090000"
    assert event.value("RRULE") == "W2 FR 20240331T000000Z"
    assert event.value("EXDATE") == "20240119T090000;20240202T090000"
    assert event.value("DALARM") == "20240105T084500;;;Stand-up"
    assert event.value("AALARM") == "20240105T100000"
    assert event.value("TRANSP") == "1"
    owner, attendee = event.all("ATTENDEE")
    assert (owner.value, owner.param("ROLE"), owner.param("CN")) == ("boss@example.com", ("OWNER",), ("Boss",))
    assert (attendee.value, attendee.param("STATUS")) == ("me@example.com", ("NEEDS ACTION",))
    # and back: alarms become VALARMs again, relative to DTSTART
    _, again = _item(vcalendar.to_version(vcalendar.to_version(data, "1.0"), "2.0"))
    assert sorted(a.value("TRIGGER") for a in again.sub("VALARM")) == ["-PT15M", "PT1H"]
    assert again.value("RRULE") == "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;UNTIL=20240331T000000Z"
    assert again.value("ORGANIZER") == "mailto:boss@example.com"
    assert again.value("EXDATE") == "20240119T090000,20240202T090000"


def test_all_day_recurring_10_until_becomes_date():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:1.0\nBEGIN:VEVENT\nDTSTART:20240101T000000\nDTEND:20240101T235900\n"
        b"RRULE:YM1 1 20300101T000000\nEXDATE:20250101T000000\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    _, event = _item(vcalendar.to_version(data, "2.0"))
    assert (event.value("DTSTART"), event.value("DTEND")) == ("20240101", "20240102")
    assert event.value("RRULE") == "FREQ=YEARLY;BYMONTH=1;UNTIL=20300101"
    assert event.first("EXDATE").params == (("VALUE", ("DATE",)),)
    assert event.value("EXDATE") == "20250101"


def test_declared_type_but_other_version_is_converted_by_content():
    one = p900_vcalendars()[0]  # the P900 declares text/calendar for vCalendar 1.0
    assert vcalendar.to_version(one, "1.0") is one
    assert parse(convert(one, "text/calendar", "text/x-vcalendar")).version == "1.0"


@pytest.mark.parametrize(
    "one, two",
    [
        ("D1 #10", "FREQ=DAILY;COUNT=10"),
        ("D2 #0", "FREQ=DAILY;INTERVAL=2"),
        ("W1 MO WE FR #0", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
        ("W2 TU 20071231T000000Z", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20071231T000000Z"),
        ("MP1 1+ MO #6", "FREQ=MONTHLY;BYDAY=1MO;COUNT=6"),
        ("MP1 1+ SU 1- SU #0", "FREQ=MONTHLY;BYDAY=1SU,-1SU"),
        ("MD1 1 15 #0", "FREQ=MONTHLY;BYMONTHDAY=1,15"),
        ("MD3 1- #4", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1;COUNT=4"),
        ("YM1 6 #0", "FREQ=YEARLY;BYMONTH=6"),
        ("YD1 100 #5", "FREQ=YEARLY;BYYEARDAY=100;COUNT=5"),
    ],
)
def test_rrule_both_ways(one, two):
    assert rrule_10_to_20(one) == two
    assert rrule_20_to_10(two) == one


def test_rrule_defaults_and_unsupported():
    assert rrule_10_to_20("D1") == "FREQ=DAILY;COUNT=2"  # vCalendar 1.0: default duration #2
    assert rrule_10_to_20("MD1 LD #0") == "FREQ=MONTHLY;BYMONTHDAY=-1"
    assert rrule_10_to_20("W1 MO$ #0") == "FREQ=WEEKLY;BYDAY=MO"
    assert rrule_10_to_20("X1 #2") is None
    assert rrule_10_to_20("W1 1+ #2") is None
    assert rrule_20_to_10("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1") is None
    assert rrule_20_to_10("FREQ=YEARLY;BYMONTH=5;BYDAY=2SU") is None
    assert rrule_20_to_10("FREQ=HOURLY") is None
    assert rrule_20_to_10("FREQ=MONTHLY;BYDAY=MO") is None  # every Monday: no 1.0 MP form


def test_unconvertible_rrule_is_dropped_not_mangled():
    data = b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTART:20240101T100000Z\nRRULE:FREQ=HOURLY\nEND:VEVENT\nEND:VCALENDAR\n"
    _, event = _item(vcalendar.to_version(data, "1.0"))
    assert event.first("RRULE") is None


def test_times_and_durations():
    assert parse_time("20061225T240000Z").format() == "20061226T000000Z"
    assert parse_time("2024-03-01T10:15:00").format() == "20240301T101500"
    assert parse_time("20240301").is_date
    assert parse_time("tomorrow") is None and parse_time("20241301") is None
    assert parse_duration("-PT15M") == timedelta(minutes=-15)
    assert parse_duration("P1W") == timedelta(weeks=1)
    assert parse_duration("P1DT2H3M4S") == timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert parse_duration("P") is None and parse_duration("15M") is None
    for delta in (timedelta(0), timedelta(minutes=-15), timedelta(days=14), timedelta(days=1, seconds=5)):
        assert parse_duration(format_duration(delta)) == delta


def test_extract_uid_skips_valarm():
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nBEGIN:VALARM\r\nUID:alarm-uid\r\nEND:VALARM\r\n"
        b"UID:event-uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert vcalendar.extract_uid(data) == "event-uid"
    assert item_uid(p900_vcalendars()[2], "text/x-vcalendar") == "679"
    assert vcalendar.extract_uid(synthesis_vtodo()) is None


def test_not_a_calendar():
    with pytest.raises(ContentError):
        vcalendar.to_version(b"BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n", "2.0")
    with pytest.raises(ContentError):
        convert(b"BEGIN:VCARD\nEND:VCARD\n", "text/vcard", "text/calendar")
