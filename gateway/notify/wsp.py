"""WSP connectionless push PDUs (WAP-230 WSP §8.2.4.1, §8.4; omads-protocol.md §7.1).

PDU = TID · type (0x06 Push) · HeadersLen (uintvar) · Content-Type · headers · body.
The SAN push is ``01 06 03 CE AF 85 <SAN>``: content type 0x4E|0x80
(application/vnd.syncml.ds.notification), X-Wap-Application-Id 0x2F|0x80 = 0x05|0x80
(push.syncml). Tables live in ``gateway.notify.tables``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.notify.errors import WSPDecodeError
from gateway.notify.tables import (APP_ID_PREFIX, CONTENT_TYPES, HEADER_FIELD_CODES,
                                   HEADER_FIELDS, PDU_CONFIRMED_PUSH, PDU_PUSH,
                                   PUSH_APP_ID_CODES, PUSH_APP_IDS, content_type_code)
from gateway.syncml.wbxml import encode_mb_u_int32

SAN_CONTENT_TYPE = "application/vnd.syncml.ds.notification"
SYNCML_APP_ID = "x-wap-application:push.syncml"

HeaderValue = int | str | bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class WspHeader:
    """One header: ``value`` is a short integer, a text string, or raw long-form bytes."""

    name: str
    value: HeaderValue


@dataclass(frozen=True, kw_only=True, slots=True)
class WspPush:
    tid: int = 1
    content_type: str = SAN_CONTENT_TYPE
    headers: tuple[WspHeader, ...] = ()
    body: bytes = b""
    confirmed: bool = False

    @property
    def application_id(self) -> str | None:
        """The X-Wap-Application-Id as ``x-wap-application:<name>`` (or the raw text)."""
        for h in self.headers:
            if h.name.lower() == "x-wap-application-id":
                if isinstance(h.value, int):
                    name = PUSH_APP_IDS.get(h.value)
                    return APP_ID_PREFIX + name if name else str(h.value)
                return h.value if isinstance(h.value, str) else None
        return None


def encode_uintvar(n: int) -> bytes:
    """WSP §8.1.2 variable-length unsigned integer (7 bits per octet, MSB = continue)."""
    if n < 0:
        raise ValueError("uintvar must not be negative")
    return encode_mb_u_int32(n)   # the same encoding as WBXML's mb_u_int32


def _encode_text(s: str) -> bytes:
    """Text-string (WAP-230 8.4.2.1): a Quote (0x7F) before a first octet >= 0x80; a text
    that itself starts with '"' gets one more, since a leading '"' marks a Quoted-string
    whose quote the reader drops."""
    raw = s.encode("utf-8")
    prefix = b"\x7f" if raw[:1] >= b"\x80" else b'"' if raw[:1] == b'"' else b""
    return prefix + raw + b"\x00"


def _encode_integer(n: int) -> bytes:
    if n < 0x80:
        return bytes((n | 0x80,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(raw) > 30:
        raise ValueError("integer too long for a WSP long-integer")
    return bytes((len(raw),)) + raw


def _encode_content_type(ctype: str) -> bytes:
    code = content_type_code(ctype)
    if code is not None and code < 0x80:
        return bytes((code | 0x80,))
    if code is not None:    # a registered number >= 0x80: Content-general-form, long-integer
        value = _encode_integer(code)
        return encode_value_length(len(value)) + value
    return _encode_text(ctype)


def encode_value_length(n: int) -> bytes:
    return bytes((n,)) if n <= 30 else b"\x1f" + encode_uintvar(n)


def _encode_app_id(value: HeaderValue) -> bytes:
    if isinstance(value, int):
        return _encode_integer(value)
    if isinstance(value, str):
        name = value[len(APP_ID_PREFIX):] if value.startswith(APP_ID_PREFIX) else None
        if name in PUSH_APP_ID_CODES:
            return _encode_integer(PUSH_APP_ID_CODES[name])
        return _encode_text(value)
    return value


def _encode_header(h: WspHeader) -> bytes:
    code = HEADER_FIELD_CODES.get(h.name.lower())
    if code is None:       # application header: token text, then text value
        if not isinstance(h.value, str):
            raise ValueError(f"application header {h.name!r} needs a text value")
        return _encode_text(h.name) + _encode_text(h.value)
    if code == 0x2F:
        value = _encode_app_id(h.value)
    elif isinstance(h.value, int):
        value = _encode_integer(h.value)
    elif isinstance(h.value, str):
        value = _encode_text(h.value)
    else:
        value = encode_value_length(len(h.value)) + h.value
    return bytes((code | 0x80,)) + value


def encode_push(push: WspPush) -> bytes:
    """Bytes of a (confirmed) push PDU."""
    if not 0 <= push.tid <= 255:
        raise ValueError("TID is one octet")
    headers = _encode_content_type(push.content_type) + b"".join(map(_encode_header, push.headers))
    pdu_type = PDU_CONFIRMED_PUSH if push.confirmed else PDU_PUSH
    return bytes((push.tid, pdu_type)) + encode_uintvar(len(headers)) + headers + push.body


def san_push(san: bytes, *, tid: int = 1) -> bytes:
    """The WAP Push PDU that carries a SAN: ``<tid> 06 03 CE AF 85 <san>``."""
    return encode_push(WspPush(tid=tid, body=san, headers=(
        WspHeader(name="X-Wap-Application-Id", value=SYNCML_APP_ID),)))


# -- decoding ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self, what: str) -> int:
        if self.pos >= self.end:
            raise WSPDecodeError(f"truncated {what}", offset=self.pos)
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.end:
            raise WSPDecodeError(f"truncated {what}: need {n} bytes", offset=self.pos)
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def uintvar(self, what: str) -> int:
        n = 0
        for _ in range(5):
            b = self.byte(what)
            n = (n << 7) | (b & 0x7F)
            if not b & 0x80:
                return n
        raise WSPDecodeError(f"{what}: uintvar longer than 5 octets", offset=self.pos)

    def text(self, what: str) -> str:
        zero = self.data.find(b"\x00", self.pos, self.end)
        if zero < 0:
            raise WSPDecodeError(f"unterminated {what}", offset=self.pos)
        raw = self.data[self.pos:zero]
        start = self.pos
        self.pos = zero + 1
        if raw[:1] in (b"\x7f", b'"'):
            raw = raw[1:]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise WSPDecodeError(f"{what} is not UTF-8", offset=start) from err

    def value_length(self, what: str) -> int:
        first = self.byte(what)
        n = self.uintvar(what) if first == 31 else first
        if self.pos + n > self.end:
            raise WSPDecodeError(f"{what} of {n} bytes overruns the headers", offset=self.pos)
        return n


def _long_int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _decode_value(r: _Reader, what: str) -> HeaderValue:
    """WSP §8.4.1.2: short-integer, text, or value-length + data."""
    if r.pos >= r.end:
        raise WSPDecodeError(f"missing {what}", offset=r.pos)
    first = r.data[r.pos]
    if first >= 0x80:
        r.pos += 1
        return first & 0x7F
    if first <= 31:
        n = r.value_length(what)
        return r.take(n, what)
    return r.text(what)


def _decode_content_type(r: _Reader) -> str:
    at = r.pos
    value = _decode_value(r, "content type")
    if isinstance(value, bytes):    # Content-general-form: media type (+ parameters, ignored)
        if not value:
            raise WSPDecodeError("empty content-type general form", offset=at)
        if value[0] >= 0x80:
            value = value[0] & 0x7F
        elif value[0] <= 30:
            if len(value) < 1 + value[0]:
                raise WSPDecodeError("truncated content-type integer", offset=at)
            value = _long_int(value[1:1 + value[0]])
        else:
            return _Reader(value).text("content type")
    if isinstance(value, int):
        name = CONTENT_TYPES.get(value)
        return name if name is not None else f"0x{value:02X}"
    return value


def decode_push(data: bytes, *, max_headers: int = 64) -> WspPush:
    """Parse a connectionless (confirmed) push PDU."""
    r = _Reader(data)
    tid = r.byte("TID")
    pdu_type = r.byte("PDU type")
    if pdu_type not in (PDU_PUSH, PDU_CONFIRMED_PUSH):
        raise WSPDecodeError(f"PDU type {pdu_type:#04x} is not Push", offset=1)
    hlen = r.uintvar("headers length")
    if hlen == 0 or r.pos + hlen > len(data):
        raise WSPDecodeError(f"headers length {hlen} does not fit the PDU", offset=r.pos)
    h = _Reader(data, r.pos, r.pos + hlen)
    ctype = _decode_content_type(h)
    headers: list[WspHeader] = []
    while h.pos < h.end:
        if len(headers) >= max_headers:
            raise WSPDecodeError("too many headers", offset=h.pos)
        first = h.data[h.pos]
        if first >= 0x80:
            h.pos += 1
            name = HEADER_FIELDS.get(first & 0x7F, f"0x{first & 0x7F:02X}")
            value = _decode_value(h, name)
            if name == "X-Wap-Application-Id" and isinstance(value, bytes):
                value = _long_int(value)
        elif first == 0x7F or first < 0x20:
            raise WSPDecodeError("header code page shifts are not supported", offset=h.pos)
        else:
            name = h.text("header name")
            value = h.text(name)
        headers.append(WspHeader(name=name, value=value))
    return WspPush(tid=tid, content_type=ctype, headers=tuple(headers),
                   body=data[h.end:], confirmed=pdu_type == PDU_CONFIRMED_PUSH)
