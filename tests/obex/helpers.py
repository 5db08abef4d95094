"""Hand-built OBEX bytes (struct only, independent of gateway.obex's encoder) and drivers."""

from __future__ import annotations

import struct

from gateway.obex.events import GetRequest, GetResponse, PutRequest, Response


def hb(hi: int, payload: bytes) -> bytes:
    """A byte-sequence (0x40) or raw unicode (0x00) header with its 2-byte length."""
    return bytes([hi]) + struct.pack(">H", 3 + len(payload)) + payload


def ht(hi: int, text: str) -> bytes:
    """A unicode header: UTF-16BE with a terminating NUL."""
    return hb(hi, (text + "\0").encode("utf-16-be"))


def h4(hi: int, value: int) -> bytes:
    return bytes([hi]) + struct.pack(">I", value)


def h1(hi: int, value: int) -> bytes:
    return bytes([hi, value])


def pkt(code: int, *headers: bytes, pre: bytes = b"") -> bytes:
    body = pre + b"".join(headers)
    return bytes([code]) + struct.pack(">H", 3 + len(body)) + body


def connect(max_len: int = 0x2000, *headers: bytes, target: bytes | None = b"SYNCML-SYNC") -> bytes:
    tgt = (hb(0x46, target),) if target is not None else ()
    return pkt(0x80, *tgt, *headers, pre=bytes([0x10, 0x00]) + struct.pack(">H", max_len))


CID = h4(0xCB, 1)
XML = b"application/vnd.syncml+xml\0"


def split_packets(data: bytes) -> list[tuple[int, bytes]]:
    """Cut a response stream into (code, bytes after the 3-byte prefix)."""
    out = []
    while data:
        assert len(data) >= 3, data
        length = struct.unpack(">H", data[1:3])[0]
        assert 3 <= length <= len(data), (length, data[:16])
        out.append((data[0], data[3:length]))
        data = data[length:]
    return out


def parse_headers(data: bytes) -> list[tuple[int, object]]:
    """An independent header parser for checking our encoder's output."""
    out, i = [], 0
    while i < len(data):
        hi = data[i]
        kind = hi >> 6
        if kind in (0, 1):
            n = struct.unpack(">H", data[i + 1:i + 3])[0]
            raw = data[i + 3:i + n]
            out.append((hi, raw.decode("utf-16-be").rstrip("\0") if kind == 0 else raw))
            i += n
        elif kind == 2:
            out.append((hi, data[i + 1]))
            i += 2
        else:
            out.append((hi, struct.unpack(">I", data[i + 1:i + 5])[0]))
            i += 5
    return out


def chunkings(packets: list[bytes]) -> dict[str, list[bytes]]:
    """The three ways every vector is fed: whole packets, byte by byte, all concatenated."""
    data = b"".join(packets)
    return {"whole": list(packets), "bytewise": [data[i:i + 1] for i in range(len(data))],
            "joined": [data]}


def drive(server, chunks, replies=()):
    """Feed ``chunks``; answer each PutRequest with Success and each GetRequest with the next
    body from ``replies`` (Not Found once they run out); all at ``now`` 0. Returns
    (events, [(code, payload), ...])."""
    replies = list(replies)
    out = bytearray()
    events = []

    def drain():
        while (ev := server.next_event()) is not None:
            events.append(ev)
            if isinstance(ev, PutRequest):
                out.extend(server.send(Response(), 0.0))
            elif isinstance(ev, GetRequest):
                reply = GetResponse(body=replies.pop(0)) if replies else Response(code=0xC4)
                out.extend(server.send(reply, 0.0))

    for chunk in chunks:
        server.receive_data(chunk, 0.0)
        out += server.data_to_send()
        drain()
    return events, split_packets(bytes(out))


def pump(client, server, data: bytes = b"") -> int:
    """Move bytes both ways until both are quiet; returns the number of client->server writes."""
    writes = 0
    while True:
        if data:
            server.receive_data(data, 0.0)
            writes += 1
        back = server.data_to_send()
        if back:
            client.receive_data(back, 0.0)
        data = client.data_to_send()
        if not data and not back:
            return writes
