"""Hypothesis: arbitrary input to the server raises nothing and leaves a defined state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.obex.constants import ResponseCode
from gateway.obex.events import ConnectionClosed, Event
from gateway.obex.server import ObexServer, ServerConfig, ServerState

from .helpers import CID, XML, connect, drive, h4, hb, ht, pkt

VALID_CODES = {int(c) for c in ResponseCode}


def check(server, events, responses):
    assert server.state in set(ServerState)
    assert all(isinstance(e, Event) for e in events)
    assert all(code in VALID_CODES for code, _ in responses)
    closes = [i for i, e in enumerate(events) if isinstance(e, ConnectionClosed)]
    assert closes in ([], [len(events) - 1])          # a close is always the last event
    assert (server.state is ServerState.CLOSED) == bool(closes)


@given(data=st.binary(max_size=600), connected=st.booleans(), cut=st.integers(1, 50))
@settings(max_examples=500)
def test_arbitrary_bytes(data, connected, cut):
    server = ObexServer(ServerConfig(max_packet_length=300, max_object_size=1000), now=0.0)
    prefix = connect(300) if connected else b""
    stream = prefix + data
    chunks = [stream[i:i + cut] for i in range(0, len(stream), cut)]
    events, responses = drive(server, chunks, replies=[b"r" * 700])
    check(server, events, responses)


# Well-framed packets from every family, valid and not, to sample state x input.
PACKETS = st.sampled_from([
    connect(255), connect(0x2000, target=b"OBEX-FTP"), connect(100), connect(target=None),
    pkt(0x02, CID, hb(0x42, XML)), pkt(0x02, hb(0x48, b"x" * 200)), pkt(0x82, hb(0x49, b"end")),
    pkt(0x82), pkt(0x02, h4(0xC3, 5000)), pkt(0x03, ht(0x01, "n")), pkt(0x83, hb(0x42, XML)),
    pkt(0x83), pkt(0xFF, CID), pkt(0x81), pkt(0x85, pre=b"\0\0"), pkt(0x84), pkt(0x82, h4(0xCB, 7)),
    pkt(0x82, bytes.fromhex("42 0002")), pkt(0x02, bytes.fromhex("01 0004 00")),
])


@given(st.lists(PACKETS, max_size=25), st.sampled_from(["whole", "joined"]))
@settings(max_examples=300, deadline=None)
def test_packet_sequences(packets, mode):
    server = ObexServer(ServerConfig(max_packet_length=300, max_object_size=1000), now=0.0)
    chunks = packets if mode == "whole" else [b"".join(packets)]
    events, responses = drive(server, chunks, replies=[b"g" * 900] * 30)
    check(server, events, responses)
    if server.state is not ServerState.CLOSED and mode == "whole":
        # request/response discipline: one response per request packet, until a close
        assert len(responses) == len(packets)
