"""WBXML codec: golden captures, libwbxml cross-checks, header/token cases, limits, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.syncml import wbxml
from gateway.syncml import wbxml_tables as T
from gateway.syncml.errors import EncodeError, WBXMLDecodeError
from gateway.syncml.tree import NS_DEVINF, NS_METINF, NS_SYNCML, DecodeLimits, Element
from tests.syncml.wbxml_helpers import (ALL_CAPTURES, PUBLIC_CAPTURES, SYNCEVO_CAPTURES, capture_id,
                                        header, mb, opaque, parse_xml, run_wbxml2xml, str_i,
                                        tree_matches_xml)

SYNCML, METINF_PAGE = 0x2D, 0x01


def E(tag, *children, text=None, ns=NS_SYNCML):
    return Element(tag, ns, list(children), text)


def _decoded_xml(path):
    return path.with_name(path.name[: -len(".wbxml")] + ".decoded.xml")


# -- golden captures ------------------------------------------------------------------

def test_fixture_sets_are_present():
    assert len(SYNCEVO_CAPTURES) >= 60 and len(PUBLIC_CAPTURES) >= 10


@pytest.mark.parametrize("path", ALL_CAPTURES, ids=capture_id)
def test_capture_decodes_and_reencodes(path):
    data = path.read_bytes()
    doc = wbxml.decode_document(data)
    assert doc.root.tag == "SyncML" and doc.root.ns == NS_SYNCML
    assert doc.root.find("SyncHdr") is not None and doc.root.find("SyncBody") is not None
    assert data[doc.end:].strip() == b""
    again = wbxml.encode(doc.root)
    assert again[:1] == b"\x02" and again[-1:] == b"\x01"
    assert wbxml.decode(again) == doc.root


@pytest.mark.parametrize("path", SYNCEVO_CAPTURES, ids=capture_id)
def test_syncevolution_capture_matches_wbxml2xml_fixture(path):
    root = wbxml.decode(path.read_bytes())
    assert tree_matches_xml(root, parse_xml(_decoded_xml(path).read_bytes())) == []


@pytest.mark.interop
@pytest.mark.parametrize("path", PUBLIC_CAPTURES, ids=capture_id)
def test_public_capture_matches_wbxml2xml(path):
    data = path.read_bytes()
    code, xml = run_wbxml2xml(data)
    assert code == 0
    assert tree_matches_xml(wbxml.decode(data), parse_xml(xml)) == []


@pytest.mark.interop
@pytest.mark.parametrize("path", ALL_CAPTURES, ids=capture_id)
def test_reencoded_capture_accepted_by_wbxml2xml(path):
    root = wbxml.decode(path.read_bytes())
    code, xml = run_wbxml2xml(wbxml.encode(root))
    assert code == 0
    assert tree_matches_xml(root, parse_xml(xml)) == []


def test_syncevolution_devinf_and_vcards():
    first = wbxml.decode((SYNCEVO_CAPTURES[0]).read_bytes())
    data = [e for e in first.iter() if e.tag == "Data" and e.children]
    assert len(data) == 1 and data[0].text is None
    devinf = data[0].children[0]
    assert (devinf.tag, devinf.ns) == ("DevInf", NS_DEVINF)
    assert devinf.findtext("VerDTD") == "1.2" and devinf.findtext("Man") == "Patrick Ohly"
    adds = wbxml.decode([p for p in SYNCEVO_CAPTURES if p.match("wbxml-md5-slow/02-client.wbxml")][0]
                        .read_bytes())
    cards = [e.text for e in adds.iter() if e.tag == "Data" and isinstance(e.text, bytes)]
    assert len(cards) == 3 and all(c.startswith(b"BEGIN:VCARD\r\n") for c in cards)


@pytest.mark.parametrize("path", ALL_CAPTURES, ids=capture_id)
def test_trailing_bytes_are_ignored(path):
    data = path.read_bytes()
    doc = wbxml.decode_document(data)
    for tail in (b"\n", b"\x00\x01garbage", bytes(range(256))):
        doc2 = wbxml.decode_document(data[: doc.end] + tail)
        assert doc2.root == doc.root and doc2.end == doc.end


@pytest.mark.parametrize("path", [SYNCEVO_CAPTURES[0], SYNCEVO_CAPTURES[-1]] + PUBLIC_CAPTURES[:3],
                         ids=capture_id)
def test_every_truncated_prefix_fails(path):
    data = path.read_bytes()
    end = wbxml.decode_document(data).end
    for cut in range(end):
        with pytest.raises(WBXMLDecodeError):
            wbxml.decode(data[:cut])


def test_ericsson_capture_details():
    path = [p for p in PUBLIC_CAPTURES if "ericsson-v10" in p.name][0]
    data = path.read_bytes()
    doc = wbxml.decode_document(data)
    assert doc.fpi == "-//SYNCML//DTD SyncML 1.0//EN" and doc.public_id is None
    assert doc.end == len(data) - 1 and data[-1:] == b"\n"
    assert doc.root.find("SyncHdr").find("VerDTD").text == b"1.0"   # OPAQUE strings


# -- header ----------------------------------------------------------------------------

BODY = b"\x6d\x6c\x71" + str_i("1.2") + b"\x01\x01\x2b\x01"   # <SyncML><SyncHdr><VerDTD>..
EXPECTED = E("SyncML", E("SyncHdr", E("VerDTD", text="1.2")), E("SyncBody"))


@pytest.mark.parametrize("version", [0x01, 0x02, 0x03])
def test_wbxml_versions(version):
    doc = wbxml.decode_document(header(version=version) + BODY)
    assert doc.version == version and doc.root == EXPECTED and doc.charset == 0x6A


def test_wbxml_10_has_no_charset_field():
    doc = wbxml.decode_document(header(version=0, charset=None) + BODY)
    assert doc.root == EXPECTED and doc.charset == 0


def test_unknown_version_rejected():
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header(version=0x04) + BODY)


@pytest.mark.parametrize("fpi", [b"-//SYNCML//DTD SyncML 1.1//EN", b"-//SYNCML//DTD SyncML 1.1//EN\x00",
                                 b"-//SyncML//DTD SyncML 1.2//EN\x00"])
def test_textual_fpi(fpi):
    doc = wbxml.decode_document(header(fpi_index=0, strtbl=fpi) + BODY)
    assert doc.public_id is None and doc.fpi == fpi.rstrip(b"\0").decode()
    assert doc.root == EXPECTED


def test_fpi_index_out_of_range():
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header(fpi_index=40, strtbl=b"-//SYNCML//DTD SyncML 1.1//EN") + BODY)


@pytest.mark.parametrize("mib,codec", [(3, "ascii"), (4, "latin-1"), (106, "utf-8"), (2252, "cp1252"),
                                       (111, "iso8859-15")])
def test_single_byte_charsets(mib, codec):
    text = "caf\u00e9" if mib != 3 else "cafe"
    body = b"\x6d\x6c\x56" + str_i(text, codec) + b"\x01\x01\x01"
    root = wbxml.decode(header(charset=mib) + body)
    assert root.find("SyncHdr").find("LocName").text == text


@pytest.mark.parametrize("mib,codec", [(1013, "utf-16-be"), (1014, "utf-16-le"), (1000, "utf-16-be")])
def test_utf16_strings_end_with_a_two_byte_nul(mib, codec):
    text = "\u0100\u0041b"     # encodes with 0x00 bytes inside characters
    body = b"\x6d\x6c\x56\x03" + text.encode(codec) + b"\x00\x00\x01\x01\x01"
    root = wbxml.decode(header(charset=mib) + body)
    assert root.find("SyncHdr").find("LocName").text == text


def test_unknown_charset_is_415():
    with pytest.raises(WBXMLDecodeError) as info:
        wbxml.decode(header(charset=9999) + BODY)
    assert info.value.error_status_hint == 415


def test_string_not_valid_in_charset_is_kept_as_bytes():
    body = b"\x6d\x6c\x56\x03caf\xe9\x00\x01\x01\x01"
    assert wbxml.decode(header() + body).find("SyncHdr").find("LocName").text == b"caf\xe9"


def test_mb_u_int32_longer_than_five_bytes():
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(b"\x02\x81\x81\x81\x81\x81\x01\x6a\x00" + BODY)


# -- tokens ----------------------------------------------------------------------------

def _loc_name(content: bytes, strtbl: bytes = b"", **kw):
    root = wbxml.decode(header(strtbl=strtbl, **kw) + b"\x6d\x6c\x56" + content + b"\x01\x01\x01")
    return root.find("SyncHdr").find("LocName").text


def test_text_parts_are_concatenated():
    assert _loc_name(str_i("ab") + b"\x83\x00" + b"\x02" + mb(0x20AC), strtbl=b"cd\x00ef\x00") == "abcd\u20ac"
    assert _loc_name(b"\x83\x03", strtbl=b"cd\x00ef\x00") == "ef"
    assert _loc_name(str_i("ab") + opaque(b"\x00\xff")) == b"ab\x00\xff"


@pytest.mark.parametrize("bad", [b"\x83\x09", b"\x02\x00", b"\x02" + mb(0xD800), b"\x02" + mb(0x110000)])
def test_bad_string_references_and_entities(bad):
    with pytest.raises(WBXMLDecodeError):
        _loc_name(bad, strtbl=b"cd\x00")


def test_switch_page_to_metinf_and_back():
    body = (b"\x6d\x6c\x5a\x00\x01\x53" + str_i("text/vcard") + b"\x01\x00\x00\x01"
            b"\x5b" + str_i("1") + b"\x01\x01\x01")
    hdr = wbxml.decode(header() + body).find("SyncHdr")
    assert hdr.children == [E("Meta", E("Type", text="text/vcard", ns=NS_METINF)), E("MsgID", text="1")]


def test_unknown_page_and_unknown_token_fail_with_offset():
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + b"\x6d\x00\x05\x01")
    with pytest.raises(WBXMLDecodeError) as info:
        wbxml.decode(header() + b"\x6d\x70\x01")           # 0x30 is reserved
    assert info.value.offset == 6
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + b"\x6d\x00\x01\x3f\x01")   # MetInf page stops at 0x16


def test_source_parent_in_syncml_11():
    root = wbxml.decode(header(public_id=0x0FD3) + b"\x6d\x79" + str_i("p") + b"\x01\x01")
    assert root.children == [E("SourceParent", text="p")]


def test_literal_tags_attributes_and_pi():
    strtbl = b"X-Vendor\x00attr\x00"
    body = (b"\x43\x05\x03v\x00\x01"                      # PI before the root
            b"\x6d\x44\x00" + str_i("lit") + b"\x01"    # LITERAL_C "X-Vendor"
            b"\xec\x05\x03v\x00\x85\x83\x09\xc3\x01z\x04\x00\x01\x01"   # SyncHdr with attributes
            b"\x43\x05\x01\x04\x00\x01")                 # PI, empty LITERAL
    root = wbxml.decode(header(strtbl=strtbl) + body)
    assert root.children == [E("X-Vendor", text="lit"), E("SyncHdr"), E("X-Vendor")]


@pytest.mark.parametrize("ext", [b"\x40v\x00", b"\x80\x00", b"\xc0"])
def test_extension_tokens_rejected(ext):
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + b"\x6d" + ext + b"\x01")


@pytest.mark.parametrize("body", [b"\x01", b"\x03a\x00\x6d\x01", b"\x6d\x6c\x01\x03x\x00\x01"])
def test_structure_errors(body):
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + body)


def test_mixed_content_rejected_but_whitespace_ignored():
    assert wbxml.decode(header() + b"\x6d\x03\n \x00\x6c\x01\x01") == E("SyncML", E("SyncHdr"))
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + b"\x6d\x03x\x00\x6c\x01\x01")


# -- nested DevInf ---------------------------------------------------------------------

def _put_data(blob: bytes) -> Element:
    root = wbxml.decode(header() + b"\x6d\x6b\x5f\x54\x4f" + opaque(blob) + b"\x01\x01\x01\x01\x01")
    return root.find("SyncBody").find("Put").find("Item").find("Data")


DEVINF_BODY = b"\x4a\x65" + str_i("1.2") + b"\x01\x5c" + str_i("5") + b"\x01\x01"


def test_nested_devinf_numeric_and_textual():
    data = _put_data(header(public_id=0x1203) + DEVINF_BODY)
    assert data.text is None
    assert data.children == [E("DevInf", E("VerDTD", text="1.2", ns=NS_DEVINF),
                               E("MaxSize", text="5", ns=NS_DEVINF), ns=NS_DEVINF)]
    old = _put_data(header(fpi_index=0, strtbl=b"-//SYNCML//DTD DEVINF 1.1//EN\x00") + DEVINF_BODY)
    assert old.children[0].children[1].tag == "Size"      # DevInf 1.1 name of token 0x1C


@pytest.mark.parametrize("blob", [header(public_id=0x1203) + DEVINF_BODY[:-1],     # truncated
                                  header(public_id=0x1203) + b"\x4a\x7f\x01\x01",  # unknown token
                                  header(public_id=0x1201) + DEVINF_BODY,          # not DevInf
                                  header(public_id=0x1203) + DEVINF_BODY + b"junk"])
def test_broken_nested_devinf_stays_opaque(blob):
    data = _put_data(blob)
    assert data.text == blob and data.children == []


def test_bare_devinf_document():
    doc = wbxml.decode_document(header(public_id=0x1203) + DEVINF_BODY)
    assert doc.root.tag == "DevInf" and doc.root.ns == NS_DEVINF
    assert wbxml.decode(header(public_id=0x01) + DEVINF_BODY).ns == NS_DEVINF


# -- encoder ---------------------------------------------------------------------------

def _message(ver: str, *body) -> Element:
    return E("SyncML", E("SyncHdr", E("VerDTD", text=ver)), E("SyncBody", *body))


@pytest.mark.parametrize("ver,pid", [("1.2", b"\xa4\x01"), ("1.1", b"\x9f\x53"), ("1.0", b"\x9f\x51")])
def test_encode_header_and_public_id(ver, pid):
    data = wbxml.encode(_message(ver, E("Final")))
    assert data == b"\x02" + pid + b"\x6a\x00\x6d\x6c\x71\x03" + ver.encode() + b"\x00\x01\x01\x6b\x12\x01\x01"


@pytest.mark.parametrize("ver,pid", [("1.2", b"\xa4\x03"), ("1.1", b"\x9f\x54"), ("1.0", b"\x9f\x52")])
def test_encode_nested_devinf(ver, pid):
    devinf = E("DevInf", E("VerDTD", text=ver, ns=NS_DEVINF), E("UTC", ns=NS_DEVINF), ns=NS_DEVINF)
    msg = _message("1.2", E("Put", E("Item", E("Data", devinf))))
    data = wbxml.encode(msg)
    nested = b"\x02" + pid + b"\x6a\x00\x4a\x65\x03" + ver.encode() + b"\x00\x01\x28\x01"
    assert b"\x4f" + opaque(nested) + b"\x01" in data
    assert wbxml.decode(data) == msg
    assert wbxml.encode(devinf) == nested


def test_encode_metinf_page_switch_and_opaque():
    msg = _message("1.2", E("Add", E("Meta", E("Type", text="text/vcard", ns=NS_METINF)),
                            E("Item", E("Data", text=b"BEGIN:VCARD\r\n"))))
    data = wbxml.encode(msg)
    assert b"\x5a\x00\x01\x53\x03text/vcard\x00\x01\x01\x00\x00\x54\x4f\xc3\x0dBEGIN:VCARD\r\n\x01" in data
    assert b"\x83" not in data.split(b"\x6d", 1)[0]     # no string table, no STR_T
    assert wbxml.decode(data) == msg


@pytest.mark.interop
def test_encode_unknown_tags_as_literal():
    msg = E("SyncML", E("X-Foo", text="1"), E("X-Bar"), E("X-Foo", E("Final")), E("Odd", ns="urn:x"))
    data = wbxml.encode(msg)
    assert data.startswith(b"\x02\xa4\x01\x6a" + mb(16) + b"X-Foo\x00X-Bar\x00Odd\x00")
    assert wbxml.decode(data) == E("SyncML", E("X-Foo", text="1"), E("X-Bar"), E("X-Foo", E("Final")),
                                   E("Odd"))
    code, _ = run_wbxml2xml(data)
    assert code == 0


@pytest.mark.interop
@pytest.mark.parametrize("version", [0x00, 0x01, 0x03])
def test_encode_other_wbxml_versions(version):
    msg = _message("1.1", E("Final"))
    data = wbxml.encode(msg, version=version)
    doc = wbxml.decode_document(data)
    assert doc.version == version and doc.root == msg and doc.public_id == 0x0FD3
    assert run_wbxml2xml(data)[0] == 0


@pytest.mark.parametrize("bad", [E("SyncML", E("VerDTD", text="a\0b")), E("SyncML", E("Final"), text="x"),
                                 E("SyncML", text=3), E("SyncML", text="\udc80")])
def test_encode_errors(bad):
    with pytest.raises(EncodeError):
        wbxml.encode(bad)
    with pytest.raises(EncodeError):
        wbxml.encode(EXPECTED, version=7)


def test_encode_too_deep_tree_is_encode_error():
    deep = E("Item")
    for _ in range(50_000):
        deep = E("Item", deep)
    with pytest.raises(EncodeError):
        wbxml.encode(E("SyncML", deep))


# -- limits ----------------------------------------------------------------------------

def test_deep_nesting_is_an_error_not_a_crash():
    data = header() + b"\x6d" + b"\x54" * 10_000 + b"\x01" * 10_001
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(data)
    deep = wbxml.decode(data, limits=DecodeLimits(max_depth=20_000))
    depth = 0
    while deep.children:
        deep, depth = deep.children[0], depth + 1
    assert depth == 10_000


def test_huge_declared_opaque_length():
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header() + b"\x6d\x4f\xc3\x8f\xff\xff\xff\x7fabc\x01\x01")
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(header(strtbl=b"") [:-1] + b"\x8f\xff\xff\xff\x7f" + BODY)   # string table


def test_max_bytes_is_413():
    data = SYNCEVO_CAPTURES[0].read_bytes()
    with pytest.raises(WBXMLDecodeError) as info:
        wbxml.decode(data, limits=DecodeLimits(max_bytes=len(data) - 1))
    assert info.value.error_status_hint == 413
    assert wbxml.decode(data, limits=DecodeLimits(max_bytes=len(data))).tag == "SyncML"


def test_max_elements_counts_nested_documents():
    data = SYNCEVO_CAPTURES[0].read_bytes()
    total = sum(1 for _ in wbxml.decode(data).iter())
    assert wbxml.decode(data, limits=DecodeLimits(max_elements=total)).tag == "SyncML"
    with pytest.raises(WBXMLDecodeError):
        wbxml.decode(data, limits=DecodeLimits(max_elements=100))


def test_max_nested_zero_keeps_devinf_opaque():
    root = wbxml.decode(SYNCEVO_CAPTURES[0].read_bytes(), limits=DecodeLimits(max_nested=0))
    assert not any(e.ns == NS_DEVINF for e in root.iter())
    assert any(e.tag == "Data" and isinstance(e.text, bytes) and e.text[:3] == b"\x02\xa4\x03"
               for e in root.iter())


# -- property tests --------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
_VALUE = st.one_of(st.none(), _TEXT, st.binary(max_size=12))
_SYNCML_NAMES = sorted(T.SYNCML_TAGS.values())
_DEVINF_NAMES = sorted(T.DEVINF_TAGS.values())


def _leaf(names, ns):
    return st.builds(lambda tag, value: Element(tag, ns, [], value), st.sampled_from(names), _VALUE)


def _tree(names, ns, extra=st.nothing()):
    return st.recursive(_leaf(names, ns) | extra, lambda kids: st.builds(
        lambda tag, children: Element(tag, ns, children), st.sampled_from(names),
        st.lists(kids, min_size=1, max_size=4)), max_leaves=25)


_META = st.builds(lambda kids: Element("Meta", NS_SYNCML, kids),
                  st.lists(_leaf(sorted(T.METINF_TAGS.values()), NS_METINF), max_size=4))
_DEVINF = st.builds(lambda kids: Element("DevInf", NS_DEVINF, kids),
                    st.lists(_tree(_DEVINF_NAMES, NS_DEVINF), max_size=4))
_DATA_DEVINF = st.builds(lambda d: Element("Data", NS_SYNCML, [d]), _DEVINF)
_MESSAGE = st.builds(lambda kids: Element("SyncML", NS_SYNCML, kids),
                     st.lists(_tree(_SYNCML_NAMES, NS_SYNCML, _META | _DATA_DEVINF), max_size=4))


@settings(deadline=None, max_examples=300)
@given(_MESSAGE, st.sampled_from(sorted(T.VERSIONS)))
def test_random_trees_round_trip(tree, version):
    assert wbxml.decode(wbxml.encode(tree, version=version)) == tree


@settings(deadline=None, max_examples=100)
@given(_DEVINF)
def test_random_devinf_round_trip(tree):
    assert wbxml.decode(wbxml.encode(tree)) == tree


def _decode_or_error(data: bytes) -> None:
    try:
        doc = wbxml.decode_document(data)
    except WBXMLDecodeError:
        return
    assert isinstance(doc.root, Element) and 0 < doc.end <= len(data)


@settings(deadline=None, max_examples=1000)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_decode_error(data):
    _decode_or_error(data)


@settings(deadline=None, max_examples=500)
@given(st.binary(max_size=120))
def test_arbitrary_body_after_valid_header(body):
    _decode_or_error(header() + b"\x6d" + body)
    _decode_or_error(header(charset=1015, strtbl=b"ab\x00") + b"\x6d" + body)


_SMALL_CAPTURES = [p.read_bytes() for p in ALL_CAPTURES if p.stat().st_size < 6000][::3]


@st.composite
def _mutated_capture(draw):
    data = bytearray(draw(st.sampled_from(_SMALL_CAPTURES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "set"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=6))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 6))]
        else:
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x43, 0x83, 0xC3, 0xC4, 0xFF]))
        if not data:
            data = bytearray(b"\x02")
    return bytes(data)


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_capture())
def test_mutated_captures_raise_only_decode_error(data):
    _decode_or_error(data)
