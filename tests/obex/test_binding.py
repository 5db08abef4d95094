"""SyncML PUT/GET pairing over OBEX, and the serial AT preamble."""

from __future__ import annotations

import pytest

from gateway.obex.at import AtCommand, AtDialer, AtFailed, AtListener, Dial, ObexStarted
from gateway.obex.client import ClientConfig, ObexClient
from gateway.obex.constants import Opcode
from gateway.obex.errors import LocalProtocolError
from gateway.obex.events import (ConnectionClosed, ConnectRequest, Connected, Disconnect,
                                 GetRequest, PutRequest, RequestRejected, Response)
from gateway.obex.server import ServerConfig, ServerState
from gateway.obex.syncml_binding import SyncMLObexServer, SyncMLReply, SyncMLRequest

from .helpers import CID, XML, connect, hb, parse_headers, pkt, pump, split_packets

WBXML = "application/vnd.syncml+wbxml"


def connected_binding(**config) -> SyncMLObexServer:
    binding = SyncMLObexServer(ServerConfig(**config), now=0.0)
    binding.receive_data(connect(0x2000), 0.0)
    assert isinstance(binding.next_event(), Connected)
    assert split_packets(binding.data_to_send())[0][0] == 0xA0
    return binding


def test_put_then_get_with_reply_ready():
    binding = connected_binding()
    binding.receive_data(pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"<SyncML>pkg1</SyncML>")), 0.0)
    assert binding.next_event() == SyncMLRequest(body=b"<SyncML>pkg1</SyncML>",
                                                 content_type="application/vnd.syncml+xml")
    assert binding.data_to_send() == bytes.fromhex("A0 0003")
    assert binding.send(SyncMLReply(body=b"<SyncML>pkg2</SyncML>",
                                    content_type="application/vnd.syncml+xml"), 0.0) == b""
    binding.receive_data(pkt(0x83, CID, hb(0x42, XML)), 0.0)
    (code, payload), = split_packets(binding.data_to_send())
    assert code == 0xA0
    assert parse_headers(payload) == [(0xC3, 21), (0x42, XML), (0x49, b"<SyncML>pkg2</SyncML>")]


def test_get_before_reply_is_held():
    binding = connected_binding()
    binding.receive_data(pkt(0x82, CID, hb(0x42, WBXML.encode() + b"\0"), hb(0x49, b"\x02\x00")),
                         0.0)
    assert isinstance(binding.next_event(), SyncMLRequest)
    binding.data_to_send()
    binding.receive_data(pkt(0x83, CID, hb(0x42, WBXML.encode() + b"\0")), 0.0)
    assert binding.data_to_send() == b"" and binding.state is ServerState.GET_WAIT
    out = binding.send(SyncMLReply(body=b"\x02\x01", content_type=WBXML), 0.0)
    (code, payload), = split_packets(out)
    assert code == 0xA0 and parse_headers(payload)[-1] == (0x49, b"\x02\x01")
    assert binding.state is ServerState.CONNECTED


def test_get_without_pending_message_and_wrong_type():
    binding = connected_binding()
    binding.receive_data(pkt(0x83, CID, hb(0x42, XML)), 0.0)
    assert binding.data_to_send() == bytes.fromhex("D0 0003")
    assert binding.next_event().code == 0xD0
    binding.receive_data(pkt(0x82, CID, hb(0x42, b"text/plain\0"), hb(0x49, b"hi")), 0.0)
    assert binding.data_to_send() == bytes.fromhex("CF 0003")
    assert isinstance(binding.next_event(), RequestRejected)
    with pytest.raises(LocalProtocolError):
        binding.send(SyncMLReply(body=b"x", content_type=XML), 0.0)


def test_reply_after_close_is_dropped():
    binding = connected_binding()
    binding.receive_data(pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"m")), 0.0)
    binding.receive_data(b"", 0.0)
    assert [type(e) for e in binding.events()] == [SyncMLRequest, ConnectionClosed]
    assert binding.send(SyncMLReply(body=b"late", content_type=XML), 0.0) == b""


def test_error_answer_to_a_waiting_get():
    binding = connected_binding()
    binding.receive_data(pkt(0x82, CID, hb(0x42, XML), hb(0x49, b"m")), 0.0)
    assert isinstance(binding.next_event(), SyncMLRequest)
    binding.data_to_send()
    with pytest.raises(LocalProtocolError):          # no GET is waiting yet
        binding.send(Response(code=0xC0), 0.0)
    binding.receive_data(pkt(0x83, CID, hb(0x42, XML)), 0.0)
    assert binding.state is ServerState.GET_WAIT
    assert binding.send(Response(code=0xC0), 0.0) == bytes.fromhex("C0 0003")
    assert binding.state is ServerState.CONNECTED and not binding.awaiting_reply


def test_full_sync_over_a_client_pair_with_small_packets():
    """Three message round trips with 255-byte packets, GETs held while the engine works."""
    xml = "application/vnd.syncml+xml"
    client = ObexClient(ClientConfig(max_packet_length=255), now=0.0)
    binding = SyncMLObexServer(ServerConfig(max_packet_length=255), now=0.0)
    pump(client, binding, client.send(ConnectRequest(target=b"SYNCML-SYNC"), 0.0))
    assert isinstance(client.next_event(), Connected)
    assert isinstance(binding.next_event(), Connected)
    for n in range(3):
        message = (b"<SyncML>client %d</SyncML>" % n) * 300
        pump(client, binding, client.send(PutRequest(type=xml, body=message), 0.0))
        assert binding.next_event() == SyncMLRequest(body=message, content_type=xml)
        assert client.next_event() == Response(op=Opcode.PUT, code=0xA0)
        pump(client, binding, client.send(GetRequest(type=xml), 0.0))
        assert client.next_event() is None                    # GET held
        reply = (b"<SyncML>server %d</SyncML>" % n) * 250
        client.receive_data(binding.send(SyncMLReply(body=reply, content_type=xml), 0.0), 0.0)
        pump(client, binding, client.data_to_send())
        got = client.next_event()
        assert got.op == Opcode.GET and got.body == reply
    pump(client, binding, client.send(Disconnect(), 0.0))
    assert [type(e) for e in binding.events()] == [Disconnect, ConnectionClosed]


def test_binding_timer_passthrough():
    binding = SyncMLObexServer(ServerConfig(idle_timeout=3.0), now=0.0)
    assert binding.next_deadline() == 3.0
    binding.handle_timeout(3.0)
    assert binding.next_event() == ConnectionClosed(reason="idle timeout")


# -- AT preamble: listener ----------------------------------------------------------------
@pytest.mark.parametrize("split", ["whole", "bytewise"])
def test_listener_answers_then_switches(split):
    obex = connect(0x2000)
    data = b"ATZ\rAT+GMI\r\nATE0\rAT\rat+cprot=0\r" + obex
    listener = AtListener(now=0.0)
    chunks = [data] if split == "whole" else [data[i:i + 1] for i in range(len(data))]
    for i, chunk in enumerate(chunks):
        listener.receive_data(chunk, 0.0)
        if listener.state.name == "OBEX":
            rest = b"".join(chunks[i + 1:])
            break
    events = list(listener.events())
    assert [e.command for e in events if isinstance(e, AtCommand)] == [
        "ATZ", "AT+GMI", "ATE0", "AT", "AT+CPROT=0"]
    started = events[-1]
    assert isinstance(started, ObexStarted) and started.data + rest == obex
    out = listener.data_to_send()
    assert out.endswith(b"\r\nCONNECT\r\n") and out.count(b"\r\nOK\r\n") == 4
    with pytest.raises(LocalProtocolError):
        listener.receive_data(b"more", 0.0)


def test_listener_echo_and_errors():
    listener = AtListener(echo=True, now=0.0)
    listener.receive_data(b"ATE0\rAT+FOO\r", 0.0)
    assert listener.data_to_send() == b"ATE0\r\r\nOK\r\n\r\nERROR\r\n"
    listener.receive_data(b"A" * 300, 0.0)
    assert listener.data_to_send() == b"\r\nERROR\r\n"


@pytest.mark.parametrize("first", [bytes.fromhex("FF 0008 CB") + b"ATZ\r", connect(0x2000)])
def test_listener_transparent_obex(first):
    listener = AtListener(now=0.0)
    listener.receive_data(first, 0.0)
    assert listener.next_event() == ObexStarted(data=first)
    assert listener.data_to_send() == b""


def test_listener_eof():
    listener = AtListener(now=0.0)
    listener.receive_data(b"", 0.0)
    assert listener.next_event() == AtFailed(reason="eof")


# -- AT preamble: dialer ------------------------------------------------------------------
def test_dialer_success_with_echo_and_leftover():
    dialer = AtDialer(timeout=5.0)
    assert dialer.next_deadline() is None
    assert dialer.send(Dial(), 0.0) == b"AT+CPROT=0\r"
    assert dialer.next_deadline() == 5.0
    for byte in b"AT+CPROT=0\r\r\nCONNECT\r\n":
        dialer.receive_data(bytes([byte]), 0.0)
    assert dialer.next_event() == ObexStarted(data=b"")
    assert dialer.next_deadline() is None


def test_dialer_steps_and_leftover_bytes():
    dialer = AtDialer(steps=(("ATZ", "OK"), ("AT*EOBEX", "CONNECT")))
    assert dialer.send(Dial(), 0.0) == b"ATZ\r"
    dialer.receive_data(b"\r\nOK\r\n", now=1.0)
    assert dialer.data_to_send() == b"AT*EOBEX\r" and dialer.next_deadline() == 6.0
    dialer.receive_data(b"\r\nCONNECT\r\n\xa0\x00\x03", 1.0)
    assert dialer.next_event() == ObexStarted(data=b"\xa0\x00\x03")


@pytest.mark.parametrize("reply", [b"\r\nERROR\r\n", b"\r\nNO CARRIER\r\n",
                                   b"\r\n+CME ERROR: 4\r\n"])
def test_dialer_error(reply):
    dialer = AtDialer()
    dialer.send(Dial(), 0.0)
    dialer.receive_data(reply, 0.0)
    event = dialer.next_event()
    assert isinstance(event, AtFailed) and "AT+CPROT=0" in event.reason


def test_dialer_timeout():
    dialer = AtDialer(timeout=2.0)
    dialer.send(Dial(), 10.0)
    dialer.handle_timeout(11.9)
    assert dialer.next_event() is None
    dialer.handle_timeout(12.0)
    assert isinstance(dialer.next_event(), AtFailed)
    assert dialer.next_deadline() is None


def test_dialer_connect_without_lf_switches_at_the_deadline():
    dialer = AtDialer(timeout=1.0)
    dialer.send(Dial(), 0.0)
    dialer.receive_data(b"\r\nCONNECT\r", 0.0)
    assert dialer.next_event() is None                # the LF may still come
    dialer.handle_timeout(1.0)
    assert dialer.next_event() == ObexStarted(data=b"")


def test_dialer_and_listener_back_to_back():
    dialer, listener = AtDialer(), AtListener(echo=True, now=0.0)
    listener.receive_data(dialer.send(Dial(), 0.0), 0.0)
    dialer.receive_data(listener.data_to_send(), 0.0)
    assert isinstance(dialer.next_event(), ObexStarted)
    assert isinstance(list(listener.events())[-1], ObexStarted)


def test_dialer_and_listener_misuse():
    """Bytes before Dial or after the switch are our own bug; EOF after the end is not."""
    dialer = AtDialer()
    with pytest.raises(LocalProtocolError):
        dialer.receive_data(b"OK\r", 0.0)
    dialer.send(Dial(), 0.0)
    with pytest.raises(LocalProtocolError):
        dialer.send(Dial(), 0.0)
    listener = AtListener(now=0.0)
    with pytest.raises(LocalProtocolError):
        listener.send(Dial(), 0.0)
    listener.receive_data(b"AT+CPROT=0\r", 0.0)
    listener.receive_data(b"", 0.0)
    assert [type(e) for e in listener.events()] == [AtCommand, ObexStarted]


def test_listener_idle_timeout():
    listener = AtListener(now=0.0, idle_timeout=10.0)
    assert listener.next_deadline() == 10.0
    listener.receive_data(b"AT", 4.0)                 # half a command is activity too
    assert listener.next_deadline() == 14.0
    listener.handle_timeout(13.9)
    assert listener.next_event() is None
    listener.handle_timeout(14.0)
    assert listener.next_event() == AtFailed(reason="idle timeout")
    assert listener.next_deadline() is None
    assert AtListener(now=0.0).next_deadline() is None
