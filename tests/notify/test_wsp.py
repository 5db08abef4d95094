"""WSP connectionless push PDUs: spec-derived and Kannel-captured vectors, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import wsp
from gateway.notify.errors import WSPDecodeError

SAN = bytes.fromhex("00112233445566778899aabbccddeeff") + b"\x03\x08rest"


def test_san_push_header_bytes():
    """The SAN push header is the fixed 01 06 03 CE AF 85 (omads-protocol.md §7.1)."""
    pdu = wsp.san_push(SAN)
    assert pdu == bytes.fromhex(
        "01"    # TID 1
        "06"    # PDU type Push
        "03"    # headers length (uintvar): content type + 2 header octets
        "CE"    # content type 0x4E | 0x80 application/vnd.syncml.ds.notification
        "AF"    # X-Wap-Application-Id 0x2F | 0x80
        "85"    # push.syncml 0x05 | 0x80
    ) + SAN


def test_decode_san_push():
    push = wsp.decode_push(wsp.san_push(SAN, tid=0x42))
    assert push.tid == 0x42
    assert push.content_type == "application/vnd.syncml.ds.notification"
    assert push.application_id == "x-wap-application:push.syncml"
    assert push.body == SAN
    assert not push.confirmed


def test_kannel_ppg_push_headers():
    """Kannel's PPG output (peers/notify-obex.md §1.3): text content type, Content-Length,
    Encoding-Version; our decoder reads every field."""
    ctype = b"application/vnd.syncml.notification\x00"
    headers = ctype + bytes.fromhex("AF85" "8DAA" "C393")
    body = bytes(range(42))
    pdu = bytes((0x01, 0x06, len(headers))) + headers + body
    assert len(headers) == 0x2A
    push = wsp.decode_push(pdu)
    assert push.content_type == "application/vnd.syncml.notification"
    assert push.application_id == "x-wap-application:push.syncml"
    assert [(h.name, h.value) for h in push.headers] == [
        ("X-Wap-Application-Id", 5), ("Content-Length", 42), ("Encoding-Version", 0x13)]
    assert push.body == body


def test_gammu_si_push():
    """gammu's WAPINDICATOR user data (peers/notify-obex.md §2.3) is a push of SI (0x2E)."""
    ud = bytes.fromhex("010601AE02056A0045C60B03687474703A2F2F3132372E302E302E312F73796E630001"
                       "0353796E63206E6F77000101")
    push = wsp.decode_push(ud)
    assert push.content_type == "application/vnd.wap.sic"
    assert push.headers == ()
    assert push.body.startswith(b"\x02\x05\x6a")


@pytest.mark.parametrize("n,raw", [(0, "00"), (0x7F, "7F"), (0x80, "8100"), (300, "822C"),
                                   (0x3FFF, "FF7F"), (0x4000, "818000")])
def test_uintvar(n, raw):
    assert wsp.encode_uintvar(n).hex().upper() == raw


def test_long_headers_use_uintvar_length():
    """200 bytes of headers need a two-octet uintvar headers length."""
    push = wsp.WspPush(headers=(wsp.WspHeader(name="X-Test", value="v" * 190),), body=b"x")
    pdu = wsp.encode_push(push)
    assert pdu[2] & 0x80
    assert wsp.decode_push(pdu) == push


values = st.one_of(st.integers(0, 127), st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                                  min_size=1, max_size=20))
headers = st.one_of(
    st.builds(wsp.WspHeader, name=st.just("X-Wap-Application-Id"),
              value=st.sampled_from(["x-wap-application:push.syncml",
                                     "x-wap-application:syncml.dm"]).map(lambda v: v)),
    st.builds(wsp.WspHeader, name=st.just("Content-Length"), value=st.integers(0, 127)),
    st.builds(wsp.WspHeader, name=st.from_regex(r"X-[A-Za-z]{1,8}", fullmatch=True),
              value=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                            max_size=20)),
)


@given(st.integers(0, 255), st.sampled_from(["application/vnd.syncml.ds.notification",
                                             "application/vnd.syncml.notification",
                                             "text/x-vcard", "application/x-custom"]),
       st.lists(headers, max_size=4), st.binary(max_size=200), st.booleans())
@settings(max_examples=200)
def test_round_trip(tid, ctype, hdrs, body, confirmed):
    push = wsp.WspPush(tid=tid, content_type=ctype, headers=tuple(hdrs), body=body,
                       confirmed=confirmed)
    back = wsp.decode_push(wsp.encode_push(push))
    assert (back.tid, back.content_type, back.body, back.confirmed) == (tid, ctype, body, confirmed)
    for sent, got in zip(hdrs, back.headers, strict=True):
        if sent.name == "X-Wap-Application-Id":
            assert back.application_id is not None
            assert got.value in (5, 7)
        else:
            assert (got.name, got.value) == (sent.name, sent.value)


@given(st.binary(max_size=200))
@settings(max_examples=500)
def test_arbitrary_bytes_raise_only_decode_error(data):
    try:
        wsp.decode_push(data)
    except WSPDecodeError:
        pass


@pytest.mark.parametrize("raw", ["0106", "010603CE", "0107", "0105", "01060A CEAF85",
                                 "0106FFFFFFFFFF", "010602" "1F"])
def test_bad_pdus(raw):
    with pytest.raises(WSPDecodeError):
        wsp.decode_push(bytes.fromhex(raw.replace(" ", "")))
