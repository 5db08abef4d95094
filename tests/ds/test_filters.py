"""The filter language (gateway/ds/filters.py), recurrence windows and field filters."""

from datetime import datetime

import pytest

from gateway.content.vformat import parse
from gateway.ds import fieldfilter, filters
from gateway.ds.filters import All, Any_, FilterError, RecordFilter, Term, Window
from gateway.ds.recurrence import occurs_in
from gateway.syncml.tree import NS_DEVINF, Element

DAY = 86400.0
NOW = (datetime(2024, 6, 15, 12, 0) - datetime(1970, 1, 1)).total_seconds()


def card(fn="Ann Smith", org="ACME", cats="Work,VIP", extra=""):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{fn}\r\nN:Smith;Ann;;;\r\nORG:{org}\r\n"
            f"CATEGORIES:{cats}\r\nTEL;TYPE=CELL:+15550001\r\nTEL;TYPE=HOME:+15550002\r\n"
            f"{extra}END:VCARD\r\n").encode()


def event(start, end=None, rrule=None, version="2.0"):
    lines = ["BEGIN:VCALENDAR", f"VERSION:{version}", "BEGIN:VEVENT", "SUMMARY:x",
             f"DTSTART:{start}"]
    if end:
        lines.append(f"DTEND:{end}")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def comp(data):
    return filters.main_component(parse(data))


# -- parser ------------------------------------------------------------------------------
@pytest.mark.parametrize("entity,op", sorted(filters.OPERATORS.items()))
def test_every_operator_parses_and_its_i_variant_folds(entity, op):
    assert filters.compile_cgi(f"FN&{entity};Ann") == Term(prop="FN", op=op, value="Ann")
    assert filters.compile_cgi(f"fn&i{entity};Ann") == Term(prop="FN", op=op, value="Ann",
                                                            fold=True)


def test_and_binds_tighter_than_or():
    node = filters.compile_cgi("FN&EQ;a&OR;ORG&EQ;b&AND;TEL&EQ;c")
    a, b, c = (Term(prop=p, op="eq", value=v) for p, v in (("FN", "a"), ("ORG", "b"),
                                                           ("TEL", "c")))
    assert node == Any_(parts=(a, All(parts=(b, c))))
    grouped = filters.compile_cgi("(FN&EQ;a&OR;ORG&EQ;b)&AND;TEL&EQ;c")
    assert grouped == All(parts=(Any_(parts=(a, b)), c))


def test_bare_ampersand_and_bar_and_escapes_and_null():
    node = filters.compile_cgi("FN&CON;A%26B&ORG&EQ;&NULL;|NOTE&NE;x")
    assert node == Any_(parts=(All(parts=(Term(prop="FN", op="con", value="A&B"),
                                          Term(prop="ORG", op="eq", value=None))),
                               Term(prop="NOTE", op="ne", value="x")))


def test_since_before_keywords_become_a_window():
    node = filters.compile_cgi("SINCE&EQ;20240101T000000Z&AND;BEFORE&EQ;20240201T000000Z")
    lo = (datetime(2024, 1, 1) - datetime(1970, 1, 1)).total_seconds()
    assert node == All(parts=(Window(lo=lo), Window(hi=lo + 31 * DAY)))


@pytest.mark.parametrize("bad", ["", "   ", "FN", "FN&EQ", "FN&XX;a", "&EQ;a", "(FN&EQ;a",
                                 "FN&EQ;a)", "FN&EQ;a&OR;", "FN&EQ;a ORG&EQ;b",
                                 "SINCE&GT;20240101", "SINCE&EQ;yesterday", "((((" * 20])
def test_garbage_is_422(bad):
    with pytest.raises(FilterError) as info:
        filters.compile_cgi(bad)
    assert info.value.status == 422


def test_uri_query_forms():
    assert filters.parse_uri_query("/dr(-30,90)") == filters.UriFilter(days=(-30, 90))
    assert filters.parse_uri_query("/fi(FN&CON;a)/dr(1,2)") == filters.UriFilter(
        expression="FN&CON;a", days=(1, 2))
    assert filters.parse_uri_query("CATEGORIES&CON;Work").expression == "CATEGORIES&CON;Work"
    with pytest.raises(FilterError) as info:
        filters.parse_uri_query("/li(10)")
    assert info.value.status == 406
    for bad in ("/dr(x,1)", "/dr(1,2", "/fi(FN)"):
        with pytest.raises(FilterError) as info:
            filters.parse_uri_query(bad)
        assert info.value.status == 422


# -- evaluation on vCards ------------------------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    ("FN&EQ;Ann Smith", True), ("FN&EQ;ann smith", False), ("FN&iEQ;ann smith", True),
    ("FN&NE;Ann Smith", False), ("FN&iNE;ANN SMITH", False), ("FN&NE;Bob", True),
    ("ORG&CON;CM", True), ("ORG&CON;cm", False), ("ORG&iCON;cm", True),
    ("ORG&NCON;CM", False), ("ORG&iNCON;xyz", True), ("ORG&NCON;cm", True),
    ("FN&LT;B", True), ("FN&GT;B", False), ("FN&LE;Ann Smith", True), ("FN&GE;Ann Smith", True),
    ("CATEGORIES&EQ;VIP", True), ("CATEGORIES&EQ;Home", False),
    ("CATEGORIES&NE;VIP", False), ("TEL&CON;0002", True),
    ("NOTE&EQ;&NULL;", True), ("NOTE&NE;&NULL;", False), ("ORG&EQ;&NULL;", False),
    ("NOTE&EQ;x", False), ("NOTE&NE;x", True),
    ("CATEGORIES&EQ;Home&OR;ORG&EQ;ACME", True), ("CATEGORIES&EQ;Home&AND;ORG&EQ;ACME", False),
])
def test_evaluation_on_a_vcard(expr, expected):
    assert filters.evaluate(filters.compile_cgi(expr), comp(card())) is expected


def test_photo_presence_filter():
    with_photo = card(extra="PHOTO;ENCODING=b;TYPE=JPEG:QUJD\r\n")
    flt = RecordFilter(expression="PHOTO&EQ;&NULL;")
    assert flt.accepts(card()) and not flt.accepts(with_photo)


def test_dates_compare_as_times():
    data = event("20240610T090000Z", "20240610T100000Z")
    node = filters.compile_cgi("DTSTART&GE;20240610&AND;DTSTART&LT;2024-06-11T00:00:00Z")
    assert filters.evaluate(node, comp(data))
    assert not filters.evaluate(filters.compile_cgi("DTSTART&GT;20240611"), comp(data))


def test_unparsable_content_passes():
    assert RecordFilter(expression="FN&EQ;x").accepts(b"\xff\xfe not a vobject")


# -- dr() windows ----------------------------------------------------------------------------
def window(days=(-30, 90)):
    return RecordFilter(window=filters.day_window(days, NOW))


@pytest.mark.parametrize("data,expected", [
    (event("20240601T100000Z", "20240601T110000Z"), True),           # 14 days ago
    (event("20240401T100000Z", "20240401T110000Z"), False),          # 75 days ago
    (event("20240510T100000Z", "20240520T110000Z"), True),           # ends in range
    (event("20240901T100000Z"), True),                                # 78 days ahead
    (event("20241001T100000Z"), False),                               # 108 days ahead
    (event("20240516"), True),                                        # all-day, 30 days ago
    (event("20240514"), False),
    (event("20240101T100000Z", "20240101T110000Z", "FREQ=WEEKLY"), True),
    (event("20240101T100000Z", "20240101T110000Z", "FREQ=WEEKLY;COUNT=5"), False),
    (event("20240101T100000Z", None, "FREQ=DAILY;UNTIL=20240520T000000Z"), True),
    (event("20240101T100000Z", None, "FREQ=DAILY;UNTIL=20240510T000000Z"), False),
    (event("20230301T100000Z", None, "FREQ=YEARLY"), False),          # every 1 March
    (event("20230620T100000Z", None, "FREQ=YEARLY"), True),           # 20 June 2024
    (event("20231215T100000Z", None, "FREQ=MONTHLY;INTERVAL=2"), True),  # 15 June 2024
    (event("20240101T100000Z", None, "W1 MO #0", version="1.0"), True),
    (event("20240101T100000Z", None, "D1 #3", version="1.0"), False),
    (card(), True),                                                   # no date: in range
])
def test_date_range(data, expected):
    assert window().accepts(data) is expected


def test_task_due_counts():
    task = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nSUMMARY:t\r\n"
            b"DUE:20240620T100000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    assert window().accepts(task)
    assert not window((1, 3)).accepts(task)


def test_recurrence_skips_ahead_without_walking_every_step():
    start = 0.0
    assert occurs_in("FREQ=SECONDLY", start, 0.0, 1e9, 1e9 + 1)
    assert not occurs_in("FREQ=SECONDLY;COUNT=10", start, 0.0, 1e9, 1e9 + 1)


def test_record_filter_round_trips_as_dict():
    flt = RecordFilter(expression="FN&EQ;a", window=(1.0, 2.0), exclusive=True)
    assert RecordFilter.from_dict(flt.to_dict()) == flt


# -- field filters -----------------------------------------------------------------------------
def _prop(name):
    return Element("Property", NS_DEVINF, [Element("PropName", NS_DEVINF, None, name)])


def test_field_names_forms():
    assert fieldfilter.field_names(_prop("fn")) == ("FN",)
    wrapper = Element("CTCap", NS_DEVINF, [_prop("FN"), _prop("TEL"), _prop("FN")])
    assert fieldfilter.field_names(wrapper) == ("FN", "TEL")
    assert fieldfilter.field_names("<Property><PropName>N</PropName></Property>"
                                   "<Property><PropName>EMAIL</PropName></Property>") == (
        "N", "EMAIL")
    assert fieldfilter.field_names("N, FN TEL") == ("N", "FN", "TEL")
    for bad in ("", Element("Nothing"), "FN;<x>"):
        with pytest.raises(FilterError) as info:
            fieldfilter.field_names(bad)
        assert info.value.status == 406


ALLOWED = frozenset({"N", "FN", "TEL", "ORG", "CATEGORIES"})
PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==\r\n"


def test_strip_keeps_only_wanted_properties():
    out = parse(fieldfilter.strip(card(extra=PHOTO + "NOTE:secret\r\n"), ALLOWED))
    assert {p.name for p in out.properties} == {"VERSION", "FN", "N", "ORG", "CATEGORIES",
                                                "TEL"}


def test_restore_hidden_puts_back_what_the_client_never_saw():
    server = card(extra=PHOTO + "NOTE:secret\r\n")
    client = card(fn="Ann Jones", org="NewCo")       # edited, never saw PHOTO/NOTE
    merged = parse(fieldfilter.restore_hidden(client, "text/vcard", server, "text/vcard",
                                              ALLOWED))
    assert merged.value("FN") == "Ann Jones" and merged.value("ORG") == "NewCo"
    assert merged.value("PHOTO") == "/9j/4AAQSkZJRgABAQ==" and merged.value("NOTE") == "secret"
    # a wanted property the client removed stays removed
    no_org = card().replace(b"ORG:ACME\r\n", b"")
    merged = parse(fieldfilter.restore_hidden(no_org, "text/vcard", server, "text/vcard",
                                              ALLOWED))
    assert merged.value("ORG") is None and merged.value("PHOTO") is not None


def test_restore_hidden_across_versions():
    server = card(extra=PHOTO)
    client = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Smith;Ann\r\nFN:Ann Smith\r\n"
              b"TEL;CELL:+15550001\r\nEND:VCARD\r\n")
    merged = parse(fieldfilter.restore_hidden(client, "text/x-vcard", server, "text/vcard",
                                              ALLOWED))
    assert merged.version == "2.1" and merged.first("PHOTO") is not None


def test_field_filter_on_an_event_keeps_calendar_frame():
    data = event("20240601T100000Z", "20240601T110000Z")
    out = parse(fieldfilter.strip(data, frozenset({"DTSTART"})))
    ev = filters.main_component(out)
    assert out.version == "2.0" and {p.name for p in ev.properties} == {"DTSTART"}
    back = parse(fieldfilter.restore_hidden(fieldfilter.strip(data, frozenset({"DTSTART"})),
                                            "text/calendar", data, "text/calendar",
                                            frozenset({"DTSTART"})))
    assert filters.main_component(back).value("SUMMARY") == "x"
