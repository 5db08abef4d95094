"""The vFormat line syntax: unfolding, params, transfer encodings, nesting, folding."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from content_samples import funambol_large_vcard, p900_vcalendars
from gateway.content.errors import ContentError
from gateway.content.vformat import (
    Component,
    Property,
    find_lines,
    parse,
    parse_all,
    parse_line,
    scan,
    serialize,
    serialize_property,
    unfold,
)


def test_content_line_with_group_params_and_bare_params():
    prop = parse_line(b"item1.TEL;CELL;home;TYPE=WORK,VOICE:+1 555 0100")
    assert prop == Property(
        name="TEL",
        group="item1",
        params=(("CELL", ()), ("HOME", ()), ("TYPE", ("WORK", "VOICE"))),
        value="+1 555 0100",
    )
    assert prop.types == {"CELL", "HOME", "WORK", "VOICE"}


def test_quoted_param_values_keep_separators():
    prop = parse_line(b'ATTENDEE;CN="Doe, John; Jr.";X-A="a:b":mailto:j@example.com')
    assert prop.param("CN") == ("Doe, John; Jr.",)
    assert prop.param("X-A") == ("a:b",)
    assert prop.value == "mailto:j@example.com"


def test_unfold_crlf_lf_tab_and_blank_lines():
    data = b"BEGIN:VCARD\nNOTE:one\r\n  two\n\tthree\n\n\r\nFN:x\r\nEND:VCARD"
    assert unfold(data) == [b"BEGIN:VCARD", b"NOTE:one two" + b"three", b"FN:x", b"END:VCARD"]


def test_quoted_printable_soft_breaks_and_charset():
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
        b"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=0D=0Aline =\r\ntwo=\r\n end\r\n"
        b"N;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:M=FCller;Hans\r\n"
        b"END:VCARD\r\n"
    )
    card = parse(data)
    assert card.value("NOTE") == "café\r\nline two end"
    assert card.value("N") == "Müller;Hans"
    assert card.first("N").encoding == "QUOTED-PRINTABLE"


def test_latin1_8bit_value_with_charset_and_without():
    card = parse(b"BEGIN:VCARD\nFN;CHARSET=ISO-8859-1:J\xfcrgen\nORG:Caf\xe9\nEND:VCARD\n")
    assert card.value("FN") == "Jürgen"
    assert card.value("ORG") == "Café"  # not UTF-8: read as ISO-8859-1


def test_base64_value_folded_unindented_and_3_0_b():
    photo = base64.b64encode(bytes(range(256)) * 3).decode()
    lines = [photo[i : i + 60] for i in range(0, len(photo), 60)]
    folded = "\r\n ".join(lines).encode()
    unindented = "\r\n".join(lines).encode()
    for body in (folded, unindented):
        card = parse(b"BEGIN:VCARD\r\nVERSION:2.1\r\nPHOTO;ENCODING=BASE64;JPEG:" + body + b"\r\n\r\nEND:VCARD\r\n")
        assert card.value("PHOTO") == photo
        assert card.first("PHOTO").encoding == "BASE64"
    card = parse(b"BEGIN:VCARD\r\nVERSION:3.0\r\nPHOTO;ENCODING=b;TYPE=JPEG:" + folded + b"\r\nEND:VCARD\r\n")
    assert base64.b64decode(card.value("PHOTO")) == bytes(range(256)) * 3


def test_nested_components():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:X\nBEGIN:STANDARD\nTZOFFSETTO:+0100\n"
        b"END:STANDARD\nEND:VTIMEZONE\nBEGIN:VEVENT\nUID:1\nBEGIN:VALARM\nACTION:DISPLAY\nEND:VALARM\n"
        b"SUMMARY:after alarm\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    cal = parse(data)
    assert [c.name for c in cal.components] == ["VTIMEZONE", "VEVENT"]
    tz, event = cal.components
    assert tz.sub("STANDARD")[0].value("TZOFFSETTO") == "+0100"
    assert event.value("SUMMARY") == "after alarm"
    assert event.sub("VALARM")[0].value("ACTION") == "DISPLAY"


def test_lenient_junk():
    data = b"garbage\nbegin:vcard\nfn:lower\nno colon here\n:novalue\nEND:VEVENT\ntel;type=cell:1"
    card = parse(data)  # missing END, stray END, lower-case names, missing VERSION
    assert card.name == "VCARD"
    assert card.version is None
    assert [(p.name, p.value) for p in card.properties] == [("FN", "lower"), ("TEL", "1")]
    assert card.first("TEL").params == (("TYPE", ("cell",)),)


def test_several_top_level_components():
    data = b"BEGIN:VCARD\nFN:a\nEND:VCARD\nBEGIN:VCARD\nFN:b\nEND:VCARD\n"
    assert [c.value("FN") for c in parse_all(data)] == ["a", "b"]


@pytest.mark.parametrize("data", [b"", b"hello world", b"FN:x\r\nTEL:1\r\n", b"\xff\xfe\x00"])
def test_not_a_vobject(data):
    with pytest.raises(ContentError):
        parse(data)


def test_folding_at_75_octets_keeps_utf8_characters_whole():
    value = "Grüße aus Köln – 東京 " * 20
    out = serialize_property(Property(name="NOTE", value=value))
    physical = out.split(b"\r\n")
    assert physical[-1] == b""
    for line in physical[:-1]:
        assert len(line) <= 75
        line.decode("utf-8")  # raises if a character was cut in two
    assert parse_line(unfold(out)[0]).value == value


def test_qp_output_lines_and_edge_whitespace():
    value = " leading and trailing \n" + "x" * 70 + " " + "é" * 40 + " "
    out = serialize_property(
        Property(name="NOTE", params=(("ENCODING", ("QUOTED-PRINTABLE",)), ("CHARSET", ("UTF-8",))), value=value)
    )
    lines = out.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75
        assert not line.endswith((b" ", b"\t")) and not line.startswith((b" ", b"\t"))
    assert all(line.endswith(b"=") for line in lines[:-1])
    assert parse_line(unfold(out)[0]).value == value


def test_serialize_2_1_base64_ends_with_blank_line():
    card = Component(
        name="VCARD",
        properties=(
            Property(name="VERSION", value="2.1"),
            Property(name="PHOTO", params=(("ENCODING", ("BASE64",)),), value="QUJD" * 40),
        ),
    )
    out = serialize(card)
    assert b"\r\n\r\nEND:VCARD\r\n" in out
    assert parse(out) == card


def test_funambol_large_object_round_trip():
    data = funambol_large_vcard()
    card = parse(data)
    photo = card.first("PHOTO")
    assert photo.param("TYPE") == ("JPEG",)
    assert base64.b64decode(photo.value)[:3] == b"\xff\xd8\xff"  # a JPEG
    assert card.value("NOTE").startswith("ciao ola\nhola\n")
    assert card.value("NOTE").endswith("FINE.......!")
    assert card.value("X-FUNAMBOL-SUBJECT") == "Bin Laden"
    assert parse(serialize(card)) == card


def test_p900_vcalendar_keeps_backslashes_and_x_props():
    event = parse(p900_vcalendars()[0]).sub("VEVENT")[0]
    assert event.value("X-EPOCAGENDAENTRYTYPE") == "APPOINTMENT"
    aalarm = event.first("AALARM")
    assert aalarm.param("TYPE") == ("X-EPOCSOUND",)
    assert aalarm.value.endswith("c:\\system\\data\\themes\\sound\\Reminder\\Classical.mp3")


def test_scan_and_find_lines_do_not_need_a_full_parse():
    data = funambol_large_vcard()
    found = [(depth, p.name, p.value) for depth, p in scan(data, ["TEL", "N"])]
    assert found == [
        (1, "BEGIN", "VCARD"),
        (1, "N", "Laden;Bin;;;"),
        (1, "TEL", "+39 328759222"),
        (0, "END", "VCARD"),
    ]
    assert [p.value for _, p in find_lines(data, "FN")] == ["Laden, Bin"]


# ------------------------------------------------------------------ hypothesis

_token = st.from_regex(r"[A-Z][A-Z0-9-]{0,12}", fullmatch=True).filter(lambda s: s not in ("BEGIN", "END"))
_param_name = st.from_regex(r"X-[A-Z0-9-]{1,8}", fullmatch=True)
_param_value = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"'), max_size=12
)
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=200)
_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
_params = st.lists(
    st.one_of(
        st.tuples(_param_name, st.lists(_param_value, min_size=1, max_size=3).map(tuple)),
        st.tuples(_param_name, st.just(())),
    ),
    max_size=3,
).map(tuple)
_group = st.one_of(st.none(), st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True))

_plain_prop = st.builds(Property, name=_token, params=_params, value=_text, group=_group)
_qp_prop = st.builds(
    lambda name, params, value, charset: Property(
        name=name, params=params + (("ENCODING", ("QUOTED-PRINTABLE",)),) + charset, value=value
    ),
    _token,
    _params,
    _any_text,
    st.sampled_from([(), (("CHARSET", ("UTF-8",)),)]),
)
_b64_prop = st.builds(
    lambda name, raw, enc: Property(name=name, params=(("ENCODING", (enc,)),), value=base64.b64encode(raw).decode()),
    _token,
    st.binary(max_size=300),
    st.sampled_from(["BASE64", "b"]),
)
_prop = st.one_of(_plain_prop, _qp_prop, _b64_prop)


def _components(depth: int):
    children = st.lists(_components(depth - 1), max_size=2).map(tuple) if depth else st.just(())
    return st.builds(Component, name=_token, properties=st.lists(_prop, max_size=6).map(tuple), components=children)


@settings(max_examples=300, deadline=None)
@given(_prop, st.booleans())
def test_property_round_trip(prop, legacy):
    out = serialize_property(prop, legacy=legacy)
    assert all(len(line) <= 75 for line in out.split(b"\r\n"))
    lines = unfold(out)
    assert len(lines) == 1
    assert parse_line(lines[0]) == prop


@settings(max_examples=100, deadline=None)
@given(_components(2), st.sampled_from([None, "2.1", "3.0", "1.0", "2.0"]))
def test_component_round_trip(component, version):
    assert parse(serialize(component, version=version)) == component


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_content_error(data):
    try:
        parse(b"BEGIN:VCARD\r\n" + data if data[:1] == b"x" else data)
    except ContentError:
        pass


_vformat_bytes = st.lists(st.sampled_from(
    [b"A", b":", b";", b"=", b"\r", b"\n", b"\r\n", b" ", b"\t", b"BASE64", b"base64", b"BASE",
     b"64", b"QUOTED-PRINTABLE", b"ENCODING=", b"abc", b"\xef\xbb\xbf", b"=\r\n", b"x.",
     b"NOTE", b"\n ", b"\r\n\t", b"\xc3\xa4", b"\x0b", b"\x0c"]), max_size=30).map(b"".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_vformat_bytes, st.binary(max_size=80)))
@example(b"\x0b")
@example(b"A:b\n\x0c \nC:d=\r\n")
def test_unfold_fast_path_gives_the_lines_of_the_full_loop(data):
    """Items with nothing to join or trim skip unfold's line loop: same lines either way,
    and ``unfolded`` is those lines as one text."""
    from gateway.content import vformat

    fast = unfold(data)
    assert vformat.unfolded(data) == b"\n".join(fast)
    original = vformat._plain_text
    vformat._plain_text = lambda data: None
    try:
        assert unfold(data) == fast
    finally:
        vformat._plain_text = original
