"""OBEX header codec: the four encodings chosen by the top two bits of the header id.

omads-protocol.md §5.2: ``00`` NUL-terminated UTF-16BE text and ``01`` byte sequence, both
with a 2-byte big-endian length that counts the 3-byte prefix; ``10`` one byte; ``11`` four
bytes. Decoding raises only :class:`ObexDecodeError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .constants import ENCODING_MASK, HeaderEncoding, HeaderId
from .errors import LocalProtocolError, ObexDecodeError

__all__ = ["Header", "encode_headers", "decode_headers", "find", "type_bytes", "type_text",
           "headers_size"]

_PREFIX = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """One header. ``value`` is ``str`` (unicode), ``bytes`` (byte sequence) or ``int``
    (one-byte / four-byte), as the encoding bits of ``hi`` demand. Don't subclass."""

    hi: int
    value: str | bytes | int

    def __post_init__(self) -> None:
        if not 0 <= self.hi <= 0xFF:
            raise LocalProtocolError(f"header id {self.hi!r} is not a byte")
        enc = self.encoding
        ok = {HeaderEncoding.UNICODE: isinstance(self.value, str),
              HeaderEncoding.BYTES: isinstance(self.value, (bytes, bytearray)),
              HeaderEncoding.BYTE1: isinstance(self.value, int) and 0 <= self.value <= 0xFF,
              HeaderEncoding.BYTE4: isinstance(self.value, int) and 0 <= self.value <= 0xFFFFFFFF,
              }[enc]
        if not ok or isinstance(self.value, bool):
            raise LocalProtocolError(f"header 0x{self.hi:02X} ({enc.name}) cannot hold {self.value!r}")
        if isinstance(self.value, bytearray):
            object.__setattr__(self, "value", bytes(self.value))
        if enc in (HeaderEncoding.UNICODE, HeaderEncoding.BYTES):
            try:
                size = self.size
            except UnicodeEncodeError:
                raise LocalProtocolError(f"header 0x{self.hi:02X}: text not encodable") from None
            if size > 0xFFFF:
                raise LocalProtocolError(f"header 0x{self.hi:02X} is longer than 65535 bytes")

    @property
    def encoding(self) -> HeaderEncoding:
        return HeaderEncoding(self.hi & ENCODING_MASK)

    @property
    def size(self) -> int:
        """Encoded size in bytes."""
        return len(self.encode())

    def encode(self) -> bytes:
        enc = self.encoding
        if enc is HeaderEncoding.BYTE1:
            return bytes((self.hi, self.value))
        if enc is HeaderEncoding.BYTE4:
            return bytes((self.hi,)) + self.value.to_bytes(4, "big")
        if enc is HeaderEncoding.UNICODE:
            payload = (self.value + "\x00").encode("utf-16-be") if self.value else b""
        else:
            payload = self.value
        return bytes((self.hi,)) + (_PREFIX + len(payload)).to_bytes(2, "big") + payload

    def __repr__(self) -> str:
        try:
            name = HeaderId(self.hi).name
        except ValueError:
            name = f"0x{self.hi:02X}"
        value = self.value
        if isinstance(value, bytes) and len(value) > 40:
            value = f"<{len(value)} bytes>"
        return f"Header({name}={value!r})"


def encode_headers(headers: Iterable[Header]) -> bytes:
    return b"".join(h.encode() for h in headers)


def headers_size(headers: Iterable[Header]) -> int:
    return sum(h.size for h in headers)


def decode_headers(data: bytes, offset: int = 0, end: int | None = None) -> tuple[Header, ...]:
    """Decode the headers in ``data[offset:end]``; error offsets are indexes into ``data``."""
    end = len(data) if end is None else end
    out: list[Header] = []
    pos = offset
    while pos < end:
        hi = data[pos]
        enc = hi & ENCODING_MASK
        if enc == HeaderEncoding.BYTE1:
            if pos + 2 > end:
                raise ObexDecodeError(f"truncated one-byte header 0x{hi:02X}", offset=pos)
            out.append(Header(hi=hi, value=data[pos + 1]))
            pos += 2
            continue
        if enc == HeaderEncoding.BYTE4:
            if pos + 5 > end:
                raise ObexDecodeError(f"truncated four-byte header 0x{hi:02X}", offset=pos)
            out.append(Header(hi=hi, value=int.from_bytes(data[pos + 1:pos + 5], "big")))
            pos += 5
            continue
        if pos + _PREFIX > end:
            raise ObexDecodeError(f"truncated header 0x{hi:02X} length", offset=pos)
        length = int.from_bytes(data[pos + 1:pos + 3], "big")
        if length < _PREFIX:
            raise ObexDecodeError(f"header 0x{hi:02X} length {length} < 3", offset=pos)
        if pos + length > end:
            raise ObexDecodeError(f"header 0x{hi:02X} length {length} runs past the packet",
                                  offset=pos)
        payload = bytes(data[pos + _PREFIX:pos + length])
        if enc == HeaderEncoding.UNICODE:
            out.append(Header(hi=hi, value=_decode_text(payload, hi, pos)))
        else:
            out.append(Header(hi=hi, value=payload))
        pos += length
    return tuple(out)


def _decode_text(payload: bytes, hi: int, pos: int) -> str:
    if len(payload) % 2:
        raise ObexDecodeError(f"unicode header 0x{hi:02X} has an odd length", offset=pos)
    try:
        text = payload.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise ObexDecodeError(f"unicode header 0x{hi:02X}: {exc.reason}",
                              offset=pos + _PREFIX + exc.start) from None
    return text.rstrip("\x00")


def find(headers: Sequence[Header], hi: int) -> str | bytes | int | None:
    """Value of the first header with id ``hi``, or None."""
    for h in headers:
        if h.hi == hi:
            return h.value
    return None


def type_bytes(mime: str) -> bytes:
    """A Type header value: ASCII MIME type plus the trailing NUL SyncML peers send (§5.1)."""
    try:
        return mime.encode("ascii") + b"\x00"
    except UnicodeEncodeError:
        raise LocalProtocolError(f"Type {mime!r} is not ASCII") from None


def type_text(raw: bytes) -> str:
    """A received Type value as text, trailing NULs stripped (latin-1: never fails)."""
    return raw.rstrip(b"\x00").decode("latin-1")
