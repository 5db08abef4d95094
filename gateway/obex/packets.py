"""OBEX packet codec and stream framing.

Packet format (omads-protocol.md §5.2): opcode or response code (1 byte) · packet length
including these 3 bytes (2 bytes, big-endian) · [Connect and its response: version 0x10,
flags, maximum packet length (2 bytes)] · [SetPath: flags, constants] · headers.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import (CONNECT_FIELDS, FINAL_BIT, OBEX_VERSION, PACKET_PREFIX, SETPATH_FIELDS,
                        Opcode, ResponseCode)
from .errors import LocalProtocolError, ObexDecodeError
from .headers import Header, decode_headers, encode_headers

__all__ = ["Packet", "decode_request", "decode_response", "PacketFramer"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """One request or response packet. ``code`` is the first byte as sent (a request opcode
    with its final bit, or a response code). Connect fields are set only for Connect and its
    response, SetPath fields only for SetPath. Don't subclass."""

    code: int
    headers: tuple[Header, ...] = ()
    version: int | None = None
    flags: int | None = None
    max_packet_length: int | None = None
    setpath_flags: int | None = None
    setpath_constants: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.code <= 0xFF:
            raise LocalProtocolError(f"packet code {self.code!r} is not a byte")
        object.__setattr__(self, "headers", tuple(self.headers))
        connect = (self.version, self.flags, self.max_packet_length)
        if any(v is not None for v in connect) and None in connect:
            raise LocalProtocolError("Connect fields go together: version, flags, max_packet_length")

    @classmethod
    def connect(cls, code: int, max_packet_length: int, headers: tuple[Header, ...] = (),
                flags: int = 0) -> "Packet":
        return cls(code=code, headers=headers, version=OBEX_VERSION, flags=flags,
                   max_packet_length=max_packet_length)

    @property
    def opcode(self) -> int:
        """The request opcode without the final bit."""
        return self.code & ~FINAL_BIT & 0xFF

    @property
    def final(self) -> bool:
        return bool(self.code & FINAL_BIT)

    def encode(self) -> bytes:
        pre = b""
        if self.version is not None:
            pre = bytes((self.version, self.flags)) + self.max_packet_length.to_bytes(2, "big")
        if self.setpath_flags is not None:
            pre += bytes((self.setpath_flags, self.setpath_constants or 0))
        body = pre + encode_headers(self.headers)
        length = PACKET_PREFIX + len(body)
        if length > 0xFFFF:
            raise LocalProtocolError(f"packet of {length} bytes exceeds 65535")
        return bytes((self.code,)) + length.to_bytes(2, "big") + body

    def __len__(self) -> int:
        return len(self.encode())


def _connect_fields(frame: bytes) -> dict:
    if len(frame) < PACKET_PREFIX + CONNECT_FIELDS:
        raise ObexDecodeError("Connect packet shorter than 7 bytes", offset=len(frame))
    return {"version": frame[3], "flags": frame[4],
            "max_packet_length": int.from_bytes(frame[5:7], "big")}


def _check_length(frame: bytes) -> None:
    if len(frame) < PACKET_PREFIX or int.from_bytes(frame[1:3], "big") != len(frame):
        raise ObexDecodeError("packet length field does not match the packet", offset=1)


def decode_request(frame: bytes) -> Packet:
    """Decode one complete request packet (as cut by :class:`PacketFramer`)."""
    _check_length(frame)
    code = frame[0]
    opcode = code & ~FINAL_BIT
    fields: dict = {}
    start = PACKET_PREFIX
    if opcode == Opcode.CONNECT:
        fields = _connect_fields(frame)
        start += CONNECT_FIELDS
    elif opcode == Opcode.SETPATH:
        if len(frame) < PACKET_PREFIX + SETPATH_FIELDS:
            raise ObexDecodeError("SetPath packet shorter than 5 bytes", offset=len(frame))
        fields = {"setpath_flags": frame[3], "setpath_constants": frame[4]}
        start += SETPATH_FIELDS
    return Packet(code=code, headers=decode_headers(frame, start), **fields)


def decode_response(frame: bytes, *, connect: bool = False) -> Packet:
    """Decode one complete response packet; ``connect`` when it answers a Connect
    (a short error response without the Connect fields is accepted)."""
    _check_length(frame)
    fields: dict = {}
    start = PACKET_PREFIX
    if connect and (len(frame) > PACKET_PREFIX or frame[0] == ResponseCode.SUCCESS):
        fields = _connect_fields(frame)
        start += CONNECT_FIELDS
    return Packet(code=frame[0], headers=decode_headers(frame, start), **fields)


class PacketFramer:
    """Buffers stream bytes and cuts complete packets by their length field.

    ``next_frame(limit)`` returns one packet's bytes or None (need more data); a length
    field below 3 or above ``limit`` raises :class:`ObexDecodeError` (the stream cannot be
    resynchronised after that)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def offset(self) -> int:
        return self._offset

    def next_frame(self, limit: int) -> bytes | None:
        if len(self._buf) < PACKET_PREFIX:
            return None
        length = int.from_bytes(self._buf[1:3], "big")
        if length < PACKET_PREFIX:
            raise ObexDecodeError(f"packet length {length} < 3", offset=self._offset + 1)
        if length > limit:
            raise ObexDecodeError(f"packet length {length} > maximum {limit}",
                                  offset=self._offset + 1,
                                  response=ResponseCode.REQ_ENTITY_TOO_LARGE)
        if len(self._buf) < length:
            return None
        frame = bytes(self._buf[:length])
        del self._buf[:length]
        self._offset += length
        return frame

    def take_all(self) -> bytes:
        data = bytes(self._buf)
        self._offset += len(data)
        self._buf.clear()
        return data
