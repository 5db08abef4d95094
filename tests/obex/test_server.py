"""ObexServer: scripted sessions fed whole, byte by byte and concatenated; errors; timers."""

from __future__ import annotations

import pytest

from gateway.obex.constants import HeaderId, ResponseCode
from gateway.obex.errors import LocalProtocolError
from gateway.obex.events import (Abort, ConnectionClosed, Connected, Disconnect, GetRequest,
                                 GetResponse, PutRequest, RequestRejected, Response)
from gateway.obex.server import ObexServer, ServerConfig, ServerState

from .helpers import CID, XML, chunkings, connect, drive, h4, hb, ht, parse_headers, pkt

MODES = ["whole", "bytewise", "joined"]
BODY = bytes(range(256)) * 3


def events_of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def codes(responses):
    return [c for c, _ in responses]


# -- Connect ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_connect_success(mode):
    server = ObexServer(ServerConfig(max_packet_length=0x4000), now=0.0)
    events, responses = drive(server, chunkings([connect(0x2000)])[mode])
    assert responses == [(0xA0, bytes.fromhex("10 00 4000 CB 00000001 4A 000E") + b"SYNCML-SYNC")]
    assert events == [Connected(connection_id=1, target=b"SYNCML-SYNC", who=None,
                                max_packet_length=0x2000,
                                headers=events[0].headers)]
    assert server.state is ServerState.CONNECTED and server.send_limit == 0x2000


def test_connect_negotiates_the_smaller_size_and_keeps_peer_who():
    server = ObexServer(ServerConfig(max_packet_length=300), now=0.0)
    events, _ = drive(server, [connect(0xFFFF, hb(0x4A, b"Linux\0"))])
    assert events[0].max_packet_length == 300 and events[0].who == b"Linux\0"


@pytest.mark.parametrize("target", [b"OBEX-FTP", b"SYNCML-DM"])
def test_connect_unknown_target_not_found(target):
    server = ObexServer(now=0.0)
    events, responses = drive(server, [connect(0x2000, target=target)])
    assert codes(responses) == [0xC4]
    assert responses[0][1][:2] == b"\x10\x00"               # a Connect response keeps its fields
    assert isinstance(events[0], RequestRejected) and events[0].code == 0xC4
    assert server.state is ServerState.IDLE


def test_connect_without_target_only_if_configured():
    events, responses = drive(ObexServer(now=0.0), [connect(0x2000, target=None)])
    assert codes(responses) == [0xC4]
    server = ObexServer(ServerConfig(allow_no_target=True), now=0.0)
    events, responses = drive(server, [connect(0x2000, target=None)])
    assert codes(responses) == [0xA0] and len(responses[0][1]) == 4   # no Connection-ID, no Who
    assert events[0].connection_id is None and server.state is ServerState.CONNECTED


def test_connect_with_tiny_max_packet_is_bad_request():
    server = ObexServer(now=0.0)
    events, responses = drive(server, [connect(100)])
    assert codes(responses) == [0xC0] and server.state is ServerState.IDLE


# -- PUT split every way real clients split it (notify-obex.md §3.2) ------------------------
PUT_VARIANTS = {
    # PyOBEX: a headers-only PUT, then the body in End-of-Body
    "headers_then_eob": [pkt(0x02, CID, ht(0x01, ""), h4(0xC3, len(BODY)), hb(0x42, XML)),
                         pkt(0x82, hb(0x49, BODY))],
    # headers first, then the body in Continue rounds
    "continue_rounds": [pkt(0x02, CID, hb(0x42, XML), h4(0xC3, len(BODY))),
                        pkt(0x02, hb(0x48, BODY[:100])), pkt(0x02, hb(0x48, BODY[100:500])),
                        pkt(0x82, hb(0x49, BODY[500:]))],
    # obexftp: Name, Length and Body first, then a final PUT with an empty End-of-Body
    "body_then_empty_final": [pkt(0x02, CID, ht(0x01, "x.xml"), h4(0xC3, len(BODY)),
                                  hb(0x42, XML), hb(0x48, BODY)), pkt(0x82, hb(0x49, b""))],
    # obex_test: one final PUT carrying Body (not End-of-Body)
    "single_final_body": [pkt(0x82, CID, hb(0x42, XML), hb(0x48, BODY))],
    # one final packet with everything
    "single_final_eob": [pkt(0x82, CID, hb(0x42, XML), h4(0xC3, len(BODY)), hb(0x49, BODY))],
    # End-of-Body in a non-final packet, then an empty final packet
    "eob_not_final": [pkt(0x02, CID, hb(0x42, XML), hb(0x49, BODY)), pkt(0x82)],
    # obex_tcp: a user-defined 4-byte header 0xCF rides along
    "extra_header": [pkt(0x82, CID, hb(0x42, XML), h4(0xCF, 7), hb(0x48, BODY))],
}


@pytest.mark.parametrize("variant", sorted(PUT_VARIANTS))
@pytest.mark.parametrize("mode", MODES)
def test_put_variants(variant, mode):
    packets = PUT_VARIANTS[variant]
    server = ObexServer(now=0.0)
    events, responses = drive(server, chunkings([connect(0x2000)] + packets)[mode])
    assert codes(responses) == [0xA0] + [0x90] * (len(packets) - 1) + [0xA0]
    (put,) = events_of(events, PutRequest)
    assert put.body == BODY and put.type == "application/vnd.syncml+xml"
    assert not put.delete
    assert put.length == (len(BODY) if any(p.find(b"\xc3\x00\x00\x03") >= 0 for p in packets)
                          else None)
    assert put.name == {"headers_then_eob": "", "body_then_empty_final": "x.xml"}.get(variant)
    assert all(h.hi not in (HeaderId.BODY, HeaderId.END_OF_BODY) for h in put.headers)
    if variant == "extra_header":
        assert any(h.hi == 0xCF and h.value == 7 for h in put.headers)
    assert server.state is ServerState.CONNECTED


def test_put_without_body_is_a_delete():
    events, responses = drive(ObexServer(now=0.0), [connect(), pkt(0x82, CID, ht(0x01, "a.vcf"))])
    (put,) = events_of(events, PutRequest)
    assert put.delete and put.body == b"" and put.name == "a.vcf"


def test_put_reply_codes_come_from_the_caller():
    server = ObexServer(now=0.0)
    drive(server, [connect()])
    server.receive_data(pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"x")), 0.0)
    assert isinstance(server.next_event(), PutRequest) and server.state is ServerState.PUT_WAIT
    assert server.send(Response(code=ResponseCode.DATABASE_FULL), 0.0) == bytes.fromhex("E0 0003")


# -- GET ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_get_reply_split_within_peer_max(mode):
    reply = bytes(range(251)) * 20
    server = ObexServer(ServerConfig(max_packet_length=0x4000), now=0.0)
    rounds = 5000 // 249 + 2
    packets = [connect(255), pkt(0x83, CID, hb(0x42, XML))] + [pkt(0x83)] * (rounds + 3)
    events, responses = drive(server, chunkings(packets)[mode], replies=[reply])
    get = events_of(events, GetRequest)[0]
    assert get.type == "application/vnd.syncml+xml"
    body_responses = responses[1:]
    assert all(len(p) + 3 <= 255 for _, p in body_responses)
    final = codes(body_responses).index(0xA0)
    assert set(codes(body_responses)[:final]) == {0x90}
    got, length = b"", None
    for _, payload in body_responses[:final + 1]:
        for hi, value in parse_headers(payload):
            if hi in (0x48, 0x49):
                got += value
            elif hi == 0xC3:
                length = value
    assert got == reply and length == len(reply)
    assert parse_headers(body_responses[final][1])[-1][0] == 0x49      # End-of-Body last
    assert final == 20                      # 244 bytes in the first packet, then 249 each
    # the surplus GETs after Success are new GETs, refused by the caller here
    assert set(codes(body_responses)[final + 1:]) == {0xC4}
    assert server.state is ServerState.CONNECTED


def test_get_request_headers_over_several_packets():
    server = ObexServer(now=0.0)
    packets = [connect(), pkt(0x03, CID, ht(0x01, "devinf")), pkt(0x83, hb(0x42, XML))]
    events, responses = drive(server, packets, replies=[b"tiny"])
    assert codes(responses) == [0xA0, 0x90, 0xA0]
    (get,) = events_of(events, GetRequest)
    assert (get.name, get.type) == ("devinf", "application/vnd.syncml+xml")
    assert parse_headers(responses[2][1]) == [(0xC3, 4), (0x49, b"tiny")]


def test_get_error_reply_and_type_header():
    server = ObexServer(now=0.0)
    drive(server, [connect()])
    server.receive_data(pkt(0x83, CID, hb(0x42, XML)), 0.0)
    assert isinstance(server.next_event(), GetRequest)
    assert server.send(Response(code=ResponseCode.NOT_FOUND), 0.0) == bytes.fromhex("C4 0003")
    server.receive_data(pkt(0x83, CID, hb(0x42, XML)), 0.0)
    server.next_event()
    out = server.send(GetResponse(body=b"", type="text/x-vcard"), 0.0)
    assert parse_headers(out[3:]) == [(0xC3, 0), (0x42, b"text/x-vcard\0"), (0x49, b"")]


# -- refusals that keep the connection ----------------------------------------------------
@pytest.mark.parametrize("request_", [pkt(0x82, hb(0x49, b"x")), pkt(0x02), pkt(0x83), pkt(0x03)])
def test_put_get_without_connect_service_unavailable(request_):
    server = ObexServer(now=0.0)
    events, responses = drive(server, [request_, connect()])
    assert codes(responses) == [0xD3, 0xA0]
    assert events[0] == RequestRejected(op=request_[0] & 0x7F, code=0xD3, reason="no Connect yet")
    assert server.state is ServerState.CONNECTED


@pytest.mark.parametrize("mode", MODES)
def test_wrong_connection_id_not_found(mode):
    packets = [connect(), pkt(0x82, h4(0xCB, 9), hb(0x49, b"x")),
               pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"y"))]
    events, responses = drive(ObexServer(now=0.0), chunkings(packets)[mode])
    assert codes(responses) == [0xA0, 0xC4, 0xA0]
    assert events_of(events, PutRequest)[0].body == b"y"


def test_require_connection_id():
    server = ObexServer(ServerConfig(require_connection_id=True), now=0.0)
    events, responses = drive(server, [connect(), pkt(0x82, hb(0x49, b"x")),
                                       pkt(0x82, CID, hb(0x49, b"x"))])
    assert codes(responses) == [0xA0, 0xD3, 0xA0]


@pytest.mark.parametrize("opcode,code", [(0x84, 0xC0), (0x04, 0xC0), (0x10, 0xC0), (0xFE, 0xC0),
                                         (0x85, 0xD1), (0x86, 0xD1), (0x87, 0xD1)])
def test_unknown_or_unsupported_opcode_keeps_connection(opcode, code):
    pre = b"\x00\x00" if opcode == 0x85 else b""
    packets = [connect(), pkt(opcode, CID, pre=pre), pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"z"))]
    for mode, chunks in chunkings(packets).items():
        events, responses = drive(ObexServer(now=0.0), chunks)
        assert codes(responses) == [0xA0, code, 0xA0], mode
        assert events_of(events, PutRequest)[0].body == b"z"


@pytest.mark.parametrize("bad_headers", [
    bytes.fromhex("42 00"),            # truncated header
    bytes.fromhex("42 0002"),          # header length < 3
    bytes.fromhex("01 0004 00"),       # unicode header with odd length
    bytes.fromhex("C3 0000"),          # truncated four-byte header
])
@pytest.mark.parametrize("mode", MODES)
def test_malformed_headers_bad_request_then_continue(bad_headers, mode):
    packets = [connect(), pkt(0x02, CID, hb(0x48, b"lost")), pkt(0x82, bad_headers),
               pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"ok"))]
    server = ObexServer(now=0.0)
    events, responses = drive(server, chunkings(packets)[mode])
    assert codes(responses) == [0xA0, 0x90, 0xC0, 0xA0]
    assert [e.body for e in events_of(events, PutRequest)] == [b"ok"]
    assert events_of(events, RequestRejected)[0].code == 0xC0


def test_malformed_connect_is_bad_request():
    events, responses = drive(ObexServer(now=0.0), [bytes.fromhex("80 0005 1000")])
    assert codes(responses) == [0xC0] and responses[0][1][:2] == b"\x10\x00"


def test_object_too_large_by_length_and_by_body():
    config = ServerConfig(max_object_size=100)
    _, responses = drive(ObexServer(config, now=0.0), [connect(), pkt(0x02, CID, h4(0xC3, 101)),
                                              pkt(0x82, CID, hb(0x49, bytes(100)))])
    assert codes(responses) == [0xA0, 0xCD, 0xA0]
    server = ObexServer(config, now=0.0)
    events, responses = drive(server, [connect(), pkt(0x02, CID, hb(0x48, bytes(60))),
                                       pkt(0x02, hb(0x48, bytes(60))),
                                       pkt(0x82, CID, hb(0x49, b"next"))])
    assert codes(responses) == [0xA0, 0x90, 0xCD, 0xA0]
    assert [e.body for e in events_of(events, PutRequest)] == [b"next"]


@pytest.mark.parametrize("mode", MODES)
def test_abort_resets_the_put(mode):
    packets = [connect(), pkt(0x02, CID, hb(0x42, XML), hb(0x48, b"old")), pkt(0xFF, CID),
               pkt(0x82, CID, hb(0x49, b"new"))]
    server = ObexServer(now=0.0)
    events, responses = drive(server, chunkings(packets)[mode])
    assert codes(responses) == [0xA0, 0x90, 0xA0, 0xA0]
    assert len(events_of(events, Abort)) == 1
    (put,) = events_of(events, PutRequest)
    assert put.body == b"new" and put.type is None


def test_abort_probe_before_connect_gets_success():
    server = ObexServer(now=0.0)
    events, responses = drive(server, [bytes.fromhex("FF 0008 CB") + b"ATZ\r"])
    assert codes(responses) == [0xA0] and server.state is ServerState.IDLE


# -- fatal framing errors close -----------------------------------------------------------
@pytest.mark.parametrize("frame,code", [(bytes.fromhex("82 0002"), 0xC0),
                                        (bytes.fromhex("82 0000"), 0xC0),
                                        (bytes.fromhex("82 0101") + bytes(254), 0xCD)])
@pytest.mark.parametrize("mode", MODES)
def test_bad_packet_length_answers_and_closes(frame, code, mode):
    server = ObexServer(ServerConfig(max_packet_length=256), now=0.0)
    events, responses = drive(server, chunkings([connect(), frame, connect()])[mode])
    assert codes(responses) == [0xA0, code]
    assert isinstance(events[-1], ConnectionClosed) and events[-1].error is not None
    assert events[-1].error.offset is not None
    assert server.state is ServerState.CLOSED


def test_too_long_before_connect_uses_our_max():
    server = ObexServer(ServerConfig(max_packet_length=255), now=0.0)
    events, responses = drive(server, [connect(0x2000, hb(0x4A, bytes(300)))])
    assert codes(responses) == [0xCD] and isinstance(events[-1], ConnectionClosed)


def test_peer_flooding_while_a_reply_is_pending_closes():
    server = ObexServer(ServerConfig(max_packet_length=255), now=0.0)
    drive(server, [connect()])
    server.receive_data(pkt(0x82, CID, hb(0x49, b"x")), 0.0)
    assert isinstance(server.next_event(), PutRequest)
    server.receive_data(bytes(600), 0.0)
    assert isinstance(server.next_event(), ConnectionClosed)


# -- Disconnect, EOF, idle timeout --------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_disconnect_closes(mode):
    server = ObexServer(now=0.0)
    events, responses = drive(server, chunkings([connect(), pkt(0x81, CID), connect()])[mode])
    assert codes(responses) == [0xA0, 0xA0]
    assert [type(e) for e in events] == [Connected, Disconnect, ConnectionClosed]
    assert server.state is ServerState.CLOSED
    with pytest.raises(LocalProtocolError):
        server.send(Response(), 0.0)


@pytest.mark.parametrize("data,reason", [(b"", "eof"), (b"\x82\x00", "eof inside a packet")])
def test_eof(data, reason):
    server = ObexServer(now=0.0)
    server.receive_data(data, 0.0)
    if data:
        server.receive_data(b"", 0.0)
    assert server.next_event() == ConnectionClosed(reason=reason)
    assert server.state is ServerState.CLOSED


def test_idle_timeout_with_now():
    server = ObexServer(ServerConfig(idle_timeout=30.0), now=100.0)
    assert server.next_deadline() == 130.0
    server.receive_data(connect(), now=120.0)
    assert server.next_deadline() == 150.0
    server.handle_timeout(149.9)
    assert server.state is ServerState.CONNECTED and server.next_event() is not None
    assert server.next_event() is None
    server.handle_timeout(150.0)
    assert server.next_event() == ConnectionClosed(reason="idle timeout")
    assert server.next_deadline() is None


def test_idle_timer_is_off_while_the_caller_owes_a_reply():
    server = ObexServer(ServerConfig(idle_timeout=5.0), now=0.0)
    server.receive_data(connect(), now=1.0)
    server.receive_data(pkt(0x82, CID, hb(0x49, b"x")), now=2.0)
    assert server.next_deadline() is None
    server.handle_timeout(1000.0)
    assert server.state is ServerState.PUT_WAIT
    server.send(Response(), now=1000.0)
    assert server.next_deadline() == 1005.0


def test_now_is_required_and_restarts_the_idle_window():
    """``now`` is never optional (the core reads no clock): each ``receive_data``/``send``
    restarts the idle window at the ``now`` it is given."""
    server = ObexServer(ServerConfig(idle_timeout=10.0), now=0.0)
    with pytest.raises(TypeError):
        server.receive_data(connect())              # type: ignore[call-arg]
    server.receive_data(connect(), 5.0)
    assert server.state is ServerState.CONNECTED
    assert server.next_deadline() == 15.0
    server.handle_timeout(14.9)
    assert server.state is ServerState.CONNECTED
    server.handle_timeout(15.0)
    assert server.state is ServerState.CLOSED


def test_no_idle_timeout_configured():
    server = ObexServer(now=0.0)
    assert server.next_deadline() is None
    server.handle_timeout(1e9)
    assert server.state is ServerState.IDLE


# -- caller misuse ------------------------------------------------------------------------
def test_caller_misuse_raises_local_error():
    server = ObexServer(now=0.0)
    with pytest.raises(LocalProtocolError):
        server.send(Response(), 0.0)
    with pytest.raises(LocalProtocolError):
        server.send(PutRequest(body=b""), 0.0)
    drive(server, [connect()])
    server.receive_data(pkt(0x82, CID, hb(0x49, b"x")), 0.0)
    with pytest.raises(LocalProtocolError):
        server.send(GetResponse(body=b"wrong op"), 0.0)
    with pytest.raises(LocalProtocolError):
        Response(code=ResponseCode.CONTINUE)
    with pytest.raises(LocalProtocolError):
        ServerConfig(max_packet_length=100)


def test_reply_owed_when_the_link_closed_is_dropped():
    """A PUT's request event, then the peer floods and is closed: the host's late reply
    to the PUT is dropped, not an error (it could not know when it drained the events)."""
    server = ObexServer(ServerConfig(max_packet_length=300, max_object_size=1000), now=0.0)
    flood = pkt(0x02, hb(0x48, b"x" * 200)) * 3
    server.receive_data(connect() + pkt(0x82, hb(0x49, b"end")) + flood, 0.0)
    kinds = [type(e) for e in server.events()]
    assert kinds[-1] is ConnectionClosed and server.state is ServerState.CLOSED
    assert server.send(Response(), 0.0) == b""
    with pytest.raises(LocalProtocolError):
        server.send(Response(), 0.0)
