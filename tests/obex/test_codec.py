"""Header and packet codec: golden vectors, three-way framing, errors, hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.obex.constants import HeaderId, Opcode, ResponseCode
from gateway.obex.errors import LocalProtocolError, ObexDecodeError
from gateway.obex.headers import Header, decode_headers, encode_headers, find, type_bytes, type_text
from gateway.obex.packets import Packet, PacketFramer, decode_request, decode_response
from gateway.syncml.errors import RemoteProtocolError

from .helpers import connect, h4, hb, ht, parse_headers, pkt

# -- golden vectors built from the spec facts (omads-protocol.md §5.2) -----------------------
CONNECT_SYNCML = bytes.fromhex("80 0015 10 00 2000 46 000E") + b"SYNCML-SYNC"
CONNECT_OK = bytes.fromhex("A0 001A 10 00 7FFF CB 00000001 4A 000E") + b"SYNCML-SYNC"
ABORT_PROBE = bytes.fromhex("FF 0008 CB") + b"ATZ\r"     # obexftp's tty probe (notify-obex §3.3)
NAME_EMPTY = bytes.fromhex("01 0005 0000")               # PyOBEX's Name "" (a UTF-16 NUL)


def test_connect_golden_vector_decodes():
    assert connect(0x2000) == CONNECT_SYNCML
    p = decode_request(CONNECT_SYNCML)
    assert (p.code, p.opcode, p.final) == (0x80, Opcode.CONNECT, True)
    assert (p.version, p.flags, p.max_packet_length) == (0x10, 0, 0x2000)
    assert p.headers == (Header(hi=HeaderId.TARGET, value=b"SYNCML-SYNC"),)


def test_connect_golden_vector_encodes():
    p = Packet.connect(0x80, 0x2000, (Header(hi=0x46, value=b"SYNCML-SYNC"),))
    assert p.encode() == CONNECT_SYNCML
    ok = Packet.connect(ResponseCode.SUCCESS, 0x7FFF,
                        (Header(hi=0xCB, value=1), Header(hi=0x4A, value=b"SYNCML-SYNC")))
    assert ok.encode() == CONNECT_OK
    assert decode_response(CONNECT_OK, connect=True) == ok


def test_four_header_encodings_golden():
    headers = (Header(hi=HeaderId.NAME, value="a.xml"), Header(hi=HeaderId.TYPE, value=b"x/y\0"),
               Header(hi=0x93, value=0x7F), Header(hi=HeaderId.LENGTH, value=177))
    wire = bytes.fromhex("01 000F 0061 002E 0078 006D 006C 0000"
                         "42 0007 782F7900" "93 7F" "C3 000000B1")
    assert encode_headers(headers) == wire
    assert decode_headers(wire) == headers
    assert parse_headers(wire) == [(0x01, "a.xml"), (0x42, b"x/y\0"), (0x93, 0x7F), (0xC3, 177)]


def test_unicode_empty_forms():
    assert decode_headers(NAME_EMPTY) == (Header(hi=1, value=""),)
    assert decode_headers(bytes.fromhex("01 0003")) == (Header(hi=1, value=""),)
    assert Header(hi=1, value="").encode() == bytes.fromhex("010003")


def test_abort_probe_decodes():
    p = decode_request(ABORT_PROBE)
    assert p.opcode == Opcode.ABORT and p.final
    assert find(p.headers, HeaderId.CONNECTION_ID) == int.from_bytes(b"ATZ\r", "big")


def test_type_helpers():
    assert type_bytes("application/vnd.syncml+xml") == b"application/vnd.syncml+xml\0"
    assert type_text(b"application/vnd.syncml+wbxml\0") == "application/vnd.syncml+wbxml"
    assert type_text(b"text/plain") == "text/plain"
    with pytest.raises(LocalProtocolError):
        type_bytes("t\u00e9xt")


def test_setpath_fields():
    p = decode_request(pkt(0x85, ht(0x01, "dir"), pre=b"\x02\x00"))
    assert (p.setpath_flags, p.setpath_constants) == (2, 0)
    assert p.encode() == pkt(0x85, ht(0x01, "dir"), pre=b"\x02\x00")


@pytest.mark.parametrize("value,hi", [("x", 0x42), (b"x", 0x01), (256, 0x93), (-1, 0xC3),
                                      (2**32, 0xC3), (True, 0x93), ("\ud800", 0x01)])
def test_header_value_must_fit_encoding(value, hi):
    with pytest.raises(LocalProtocolError):
        Header(hi=hi, value=value)


# -- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("data,offset,what", [
    (bytes.fromhex("42 00"), 0, "truncated"),                 # length cut off
    (bytes.fromhex("42 0002 00"), 0, "< 3"),                  # header length < 3
    (bytes.fromhex("42 0009 6162"), 0, "past"),               # runs past the packet
    (bytes.fromhex("01 0004 00"), 0, "odd"),                  # unicode with an odd length
    (bytes.fromhex("01 0005 DC00"), 3, "unicode"),            # lone low surrogate
    (bytes.fromhex("C3 0000"), 0, "truncated"),               # four-byte header cut
    (bytes.fromhex("93"), 0, "truncated"),                    # one-byte header cut
    (bytes.fromhex("C3 00000001 42 00"), 5, "truncated"),     # error offset of 2nd header
])
def test_header_decode_errors(data, offset, what):
    with pytest.raises(ObexDecodeError) as info:
        decode_headers(data)
    assert info.value.offset == offset and what in str(info.value)
    assert isinstance(info.value, RemoteProtocolError)


@pytest.mark.parametrize("frame", [
    bytes.fromhex("80 0006 10 00 20"),                  # Connect shorter than 7 bytes
    bytes.fromhex("85 0004 02"),                        # SetPath shorter than 5 bytes
    bytes.fromhex("82 0009 42 0009 616263"),            # header runs past the packet
    bytes.fromhex("82 0005 4800"),                      # length field disagrees with the frame
])
def test_request_decode_errors(frame):
    with pytest.raises(ObexDecodeError):
        decode_request(frame)


def test_connect_error_response_without_fields():
    assert decode_response(bytes.fromhex("C4 0003"), connect=True).code == 0xC4
    with pytest.raises(ObexDecodeError):
        decode_response(bytes.fromhex("A0 0003"), connect=True)


# -- framing: whole, byte by byte, with the next packet concatenated -----------------------
VECTORS = [CONNECT_SYNCML, ABORT_PROBE, pkt(0x02, h4(0xCB, 1), ht(0x01, ""), hb(0x42, b"t\0")),
           pkt(0x82, hb(0x49, bytes(300))), pkt(0x81), bytes.fromhex("A0 0003")]


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize("mode", ["whole", "bytewise", "trailing"])
def test_framer_three_ways(vector, mode):
    framer = PacketFramer()
    frames = []
    nxt = VECTORS[0]
    chunks = {"whole": [vector], "bytewise": [vector[i:i + 1] for i in range(len(vector))],
              "trailing": [vector + nxt]}[mode]
    for chunk in chunks:
        framer.feed(chunk)
        while (f := framer.next_frame(0xFFFF)) is not None:
            frames.append(f)
    assert frames == ([vector, nxt] if mode == "trailing" else [vector])
    assert framer.buffered == 0


def test_framer_limits():
    framer = PacketFramer()
    framer.feed(bytes.fromhex("82 0002"))
    with pytest.raises(ObexDecodeError) as info:
        framer.next_frame(255)
    assert info.value.response == ResponseCode.BAD_REQUEST and info.value.offset == 1
    framer = PacketFramer()
    framer.feed(bytes.fromhex("82 0100"))
    with pytest.raises(ObexDecodeError) as info:
        framer.next_frame(255)
    assert info.value.response == ResponseCode.REQ_ENTITY_TOO_LARGE


# -- hypothesis ---------------------------------------------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=30)
headers_st = st.lists(st.one_of(
    st.builds(Header, hi=st.sampled_from([0x01, 0x05, 0x30]), value=_text),
    st.builds(Header, hi=st.sampled_from([0x42, 0x46, 0x48, 0x49, 0x4A, 0x70]),
              value=st.binary(max_size=60)),
    st.builds(Header, hi=st.sampled_from([0x93, 0xB0]), value=st.integers(0, 255)),
    st.builds(Header, hi=st.sampled_from([0xC0, 0xC3, 0xCB]), value=st.integers(0, 2**32 - 1)),
), max_size=8).map(tuple)


@given(headers_st)
def test_headers_round_trip(headers):
    wire = encode_headers(headers)
    assert decode_headers(wire) == headers
    assert parse_headers(wire) == [(h.hi, h.value) for h in headers]


@given(st.binary(max_size=200))
@settings(max_examples=400)
def test_arbitrary_bytes_only_decode_error(data):
    for decode in (decode_headers, decode_request,
                   lambda d: decode_response(d, connect=True), decode_response):
        try:
            decode(data)
        except ObexDecodeError:
            pass
