"""ObexClient against scripted server bytes, and client<->server pairs joined in memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.obex.client import ClientConfig, ClientState, ObexClient
from gateway.obex.constants import Opcode, ResponseCode
from gateway.obex.errors import LocalProtocolError
from gateway.obex.events import (Abort, ConnectionClosed, ConnectRequest, Connected, Disconnect,
                                 GetRequest, GetResponse, PutRequest, Response)
from gateway.obex.server import ObexServer, ServerConfig, ServerState

from .helpers import connect, h4, hb, parse_headers, pkt, pump, split_packets

CONNECT_OK = bytes.fromhex("A0 001A 10 00 00FF CB 00000001 4A 000E") + b"SYNCML-SYNC"
XML = "application/vnd.syncml+xml"


def connected_client(max_len: int = 0x2000, **config) -> ObexClient:
    client = ObexClient(ClientConfig(max_packet_length=max_len, **config), now=0.0)
    client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0)
    client.receive_data(CONNECT_OK, 0.0)
    assert isinstance(client.next_event(), Connected)
    return client


def feed_three_ways(client_factory, data: bytes):
    """Yield (mode, client, events) for ``data`` fed whole, byte by byte and with trailing bytes."""
    for mode in ("whole", "bytewise", "trailing"):
        client = client_factory()
        chunks = {"whole": [data], "bytewise": [data[i:i + 1] for i in range(len(data))],
                  "trailing": [data + bytes.fromhex("A0 0003")]}[mode]
        for chunk in chunks:
            client.receive_data(chunk, 0.0)
        yield mode, client, list(client.events())


def test_connect_request_bytes():
    client = ObexClient(ClientConfig(max_packet_length=0x2000), now=0.0)
    assert client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0) == connect(0x2000)
    assert client.state is ClientState.CONNECTING


def test_connect_response_three_ways():
    def factory():
        client = ObexClient(ClientConfig(max_packet_length=0x2000), now=0.0)
        client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0)
        return client
    for mode, client, events in feed_three_ways(factory, CONNECT_OK):
        assert events[0] == Connected(connection_id=1, target=b"SYNCML-SYNC", who=b"SYNCML-SYNC",
                                      max_packet_length=255, headers=events[0].headers), mode
        if mode == "trailing":       # an unsolicited response is a protocol error
            assert isinstance(events[1], ConnectionClosed) and events[1].error is not None
        else:
            assert len(events) == 1 and client.state is ClientState.CONNECTED
            assert client.send_limit == 255 and client.connection_id == 1


def test_connect_refused_becomes_event():
    client = ObexClient(now=0.0)
    client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0)
    client.receive_data(bytes.fromhex("C4 0007 10 00 2000"), 0.0)
    assert client.next_event() == Response(op=Opcode.CONNECT, code=0xC4)
    assert client.state is ClientState.IDLE


def test_put_split_waits_for_continue():
    client = connected_client()
    body = bytes(range(256)) * 4
    sent = [client.send(PutRequest(type=XML, body=body, name="m.xml"), 0.0)]
    while client.state is ClientState.PUT:
        assert client.data_to_send() == b""            # nothing until the server answers
        client.receive_data(bytes.fromhex("90 0003"), 0.0)
        sent.append(client.data_to_send())
        if sent[-1][0] == 0x82:
            break
    packets = split_packets(b"".join(sent))
    assert [c for c, _ in packets] == [0x02] * (len(packets) - 1) + [0x82]
    assert all(len(p) + 3 <= 255 for _, p in packets)
    first = parse_headers(packets[0][1])
    assert first[:4] == [(0xCB, 1), (0x01, "m.xml"), (0x42, b"application/vnd.syncml+xml\0"),
                         (0xC3, len(body))]
    got = b"".join(v for _, p in packets for hi, v in parse_headers(p) if hi in (0x48, 0x49))
    assert got == body
    assert parse_headers(packets[-1][1])[-1][0] == 0x49
    client.receive_data(bytes.fromhex("A0 0003"), 0.0)
    assert client.next_event() == Response(op=Opcode.PUT, code=0xA0)
    assert client.state is ClientState.CONNECTED


def test_small_put_is_one_final_packet():
    client = connected_client()
    (packet,) = split_packets(client.send(PutRequest(type=XML, body=b"<SyncML/>"), 0.0))
    assert packet[0] == 0x82 and parse_headers(packet[1])[-1] == (0x49, b"<SyncML/>")


def test_put_refused_midway_becomes_event():
    client = connected_client()
    client.send(PutRequest(type=XML, body=bytes(1000)), 0.0)
    client.receive_data(bytes.fromhex("CD 0003"), 0.0)
    assert client.next_event() == Response(op=Opcode.PUT, code=0xCD)
    assert client.state is ClientState.CONNECTED


def test_get_collects_continue_responses_three_ways():
    script = (pkt(0x90, h4(0xC3, 9), hb(0x48, b"abc")) + pkt(0x90, hb(0x48, b"def"))
              + pkt(0xA0, hb(0x49, b"ghi")))

    def factory():
        client = connected_client()
        (packet,) = split_packets(client.send(GetRequest(type=XML), 0.0))
        assert packet[0] == 0x83
        assert parse_headers(packet[1]) == [(0xCB, 1), (0x42, b"application/vnd.syncml+xml\0")]
        return client
    for mode, client, events in feed_three_ways(factory, script):
        assert events[0].op == Opcode.GET and events[0].code == 0xA0, mode
        assert events[0].body == b"abcdefghi"
        assert [(h.hi, h.value) for h in events[0].headers] == [(0xC3, 9)]
        assert split_packets(client.data_to_send()) == [(0x83, b""), (0x83, b"")]


def test_get_error_becomes_event():
    client = connected_client()
    client.send(GetRequest(type=XML), 0.0)
    client.receive_data(bytes.fromhex("D0 0003"), 0.0)
    assert client.next_event() == Response(op=Opcode.GET, code=ResponseCode.INTERNAL_SERVER_ERROR)


def test_disconnect():
    client = connected_client()
    assert client.send(Disconnect(), 0.0) == pkt(0x81, h4(0xCB, 1))
    client.receive_data(bytes.fromhex("A0 0003"), 0.0)
    assert client.next_event() == ConnectionClosed(reason="disconnected", code=0xA0)
    assert client.state is ClientState.CLOSED


def test_abort_is_sent_after_the_outstanding_response():
    client = connected_client()
    client.send(PutRequest(type=XML, body=bytes(2000)), 0.0)
    assert client.send(Abort(), 0.0) == b""
    client.receive_data(bytes.fromhex("90 0003"), 0.0)
    assert client.data_to_send() == pkt(0xFF, h4(0xCB, 1))
    client.receive_data(bytes.fromhex("A0 0003"), 0.0)
    assert client.next_event() == Response(op=Opcode.ABORT, code=0xA0)
    assert client.state is ClientState.CONNECTED


@pytest.mark.parametrize("data", [bytes.fromhex("A0 0003"),                 # nothing asked
                                  bytes.fromhex("90 0002"),                 # length < 3
                                  bytes.fromhex("A0 0100") + bytes(253)])   # > our 255
def test_bad_responses_close(data):
    client = connected_client(255)
    client.receive_data(data, 0.0)
    event = client.next_event()
    assert isinstance(event, ConnectionClosed) and event.error is not None
    assert client.state is ClientState.CLOSED


def test_malformed_response_headers_close():
    client = connected_client()
    client.send(GetRequest(type=XML), 0.0)
    client.receive_data(pkt(0xA0, bytes.fromhex("01 0004 00")), 0.0)
    assert isinstance(client.next_event(), ConnectionClosed)


def test_response_timeout():
    client = ObexClient(ClientConfig(idle_timeout=10.0), now=0.0)
    assert client.next_deadline() is None                     # not waiting for anything
    client.send(ConnectRequest(target=b"SYNCML-SYNC"), now=5.0)
    assert client.next_deadline() == 15.0
    client.handle_timeout(15.0)
    assert client.next_event() == ConnectionClosed(reason="idle timeout")


def test_client_misuse():
    client = ObexClient(now=0.0)
    with pytest.raises(LocalProtocolError):
        client.send(PutRequest(type=XML, body=b"x"), 0.0)
    with pytest.raises(LocalProtocolError):
        client.send(GetResponse(body=b""), 0.0)
    with pytest.raises(LocalProtocolError):
        client.send(Abort(), 0.0)


# -- pairs --------------------------------------------------------------------------------
def exchange(client, server, put_body, get_body):
    """Connect, PUT, GET, Disconnect over an in-memory pair; returns client->server writes."""
    pump(client, server, client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0))
    assert isinstance(server.next_event(), Connected) and isinstance(client.next_event(), Connected)
    writes = pump(client, server, client.send(PutRequest(type=XML, body=put_body), 0.0))
    put = server.next_event()
    assert isinstance(put, PutRequest) and put.body == put_body and put.type == XML
    assert put.length == len(put_body)
    client.receive_data(server.send(Response(), 0.0), 0.0)
    assert client.next_event() == Response(op=Opcode.PUT, code=0xA0)
    pump(client, server, client.send(GetRequest(type=XML), 0.0))
    get = server.next_event()
    assert isinstance(get, GetRequest) and get.type == XML
    client.receive_data(server.send(GetResponse(body=get_body, type=XML), 0.0), 0.0)
    writes += pump(client, server, client.data_to_send())
    reply = client.next_event()
    assert reply.op == Opcode.GET and reply.code == 0xA0 and reply.body == get_body
    pump(client, server, client.send(Disconnect(), 0.0))
    assert [type(e).__name__ for e in server.events()] == ["Disconnect", "ConnectionClosed"]
    assert client.next_event() == ConnectionClosed(reason="disconnected", code=0xA0)
    assert server.state is ServerState.CLOSED and client.state is ClientState.CLOSED
    return writes


def test_pair_50k_both_ways_with_255_byte_packets():
    client = ObexClient(ClientConfig(max_packet_length=255), now=0.0)
    server = ObexServer(ServerConfig(max_packet_length=255), now=0.0)
    put_body = bytes(range(256)) * 200
    get_body = bytes(reversed(put_body))
    writes = exchange(client, server, put_body, get_body)
    assert writes >= 2 * (len(put_body) // 249)


@given(put_body=st.binary(max_size=3000), get_body=st.binary(max_size=3000),
       client_max=st.integers(255, 2000), server_max=st.integers(255, 2000))
@settings(max_examples=60, deadline=None)
def test_pair_round_trip_any_sizes(put_body, get_body, client_max, server_max):
    exchange(ObexClient(ClientConfig(max_packet_length=client_max), now=0.0),
             ObexServer(ServerConfig(max_packet_length=server_max), now=0.0), put_body, get_body)


@given(st.lists(st.binary(min_size=1, max_size=40), max_size=10))
@settings(max_examples=300)
def test_arbitrary_bytes_to_client_never_raise(chunks):
    client = connected_client(255)
    client.send(GetRequest(type=XML), 0.0)
    for chunk in chunks:
        client.receive_data(chunk, 0.0)
    events = list(client.events())
    assert client.state in set(ClientState)
    if client.state is ClientState.CLOSED:
        assert isinstance(events[-1], ConnectionClosed)
