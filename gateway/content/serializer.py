"""Serializing the vFormat model to CRLF lines folded at 75 octets
(RFC 2425 §5.8.1, RFC 5545 §3.1), quoted-printable with ``=`` soft breaks
for vCard 2.1 / vCalendar 1.0 values (vCard 2.1 §2.1.3)."""

from __future__ import annotations

import re

from gateway.content.model import BASE64, QP, Component, Property, is_legacy

__all__ = ["serialize", "serialize_property"]

_CRLF = b"\r\n"
_LINE_OCTETS = 75  # RFC 5545 §3.1 / RFC 2425 §5.8.1: lines SHOULD NOT exceed 75 octets
_QP_WIDTH = 71  # QP payload per line before the soft break (leaves room for "=20" + "=")

_PARAM_NEEDS_QUOTES = re.compile(r'[;:,]')


def _param_text(key: str, values: tuple[str, ...]) -> str:
    if not values:
        return key
    return key + "=" + ",".join(
        f'"{v}"' if _PARAM_NEEDS_QUOTES.search(v) else v for v in values
    )


def _fold(line: bytes, limit: int = _LINE_OCTETS) -> bytes:
    """Fold at ``limit`` octets (CRLF + space), never inside a UTF-8 sequence."""
    if len(line) <= limit:
        return line + _CRLF
    parts = []
    start, width = 0, limit
    while len(line) - start > width:
        cut = start + width
        back = 0
        while back < 3 and 0x80 <= line[cut] < 0xC0:
            cut -= 1
            back += 1
        parts.append(line[start:cut])
        start, width = cut, limit - 1
    parts.append(line[start:])
    return b"\r\n ".join(parts) + _CRLF


def _qp_token(byte: int) -> bytes:
    if 33 <= byte <= 126 and byte != 61 or byte in (9, 32):
        return bytes((byte,))
    return b"=%02X" % byte


_QP_TOKENS = tuple(_qp_token(b) for b in range(256))
_QP_WS = {b" ": b"=20", b"\t": b"=09"}


def _qp_encode(head: bytes, raw: bytes) -> bytes:
    """Quoted-printable value with ``=`` soft breaks; no whitespace is left at
    a line's start or end (a leading space would read as folding)."""
    prefix = _fold(head + b":", _QP_WIDTH - 1)[:-2]  # a long head folds like any line
    lines: list[list[bytes]] = []
    cur: list[bytes] = []
    width = len(prefix) - prefix.rfind(b"\n") - 1
    for byte in raw:
        tok = _QP_TOKENS[byte]
        if width + len(tok) > _QP_WIDTH:
            lines.append(cur)
            cur, width = [], 0
        if width == 0 and tok in _QP_WS:
            tok = _QP_WS[tok]
        cur.append(tok)
        width += len(tok)
    lines.append(cur)
    for toks in lines:
        if toks and toks[-1] in _QP_WS:
            toks[-1] = _QP_WS[toks[-1]]
    return prefix + b"=\r\n".join(b"".join(t) for t in lines) + _CRLF


def serialize_property(prop: Property, *, legacy: bool = False) -> bytes:
    """One property as CRLF-terminated, folded line(s)."""
    head = (prop.group + "." if prop.group else "") + prop.name
    if prop.params:
        head += ";" + ";".join(_param_text(k, v) for k, v in prop.params)
    head_bytes = head.encode("utf-8")
    encoding = prop.encoding
    charset = prop.charset or "utf-8"
    if encoding == QP:
        try:
            raw = prop.value.encode(charset, "replace")
        except LookupError:
            raw = prop.value.encode("utf-8")
        return _qp_encode(head_bytes, raw)
    if encoding == BASE64:
        out = _fold(head_bytes + b":" + prop.value.encode("ascii", "replace"))
        return out + _CRLF if legacy else out  # vCard 2.1 §2.1.3: blank line ends base64
    value = prop.value
    if "\n" in value or "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    try:
        raw = value.encode(charset, "replace")
    except LookupError:
        raw = value.encode("utf-8")
    return _fold(head_bytes + b":" + raw)


def _emit(component: Component, legacy: bool, out: list[bytes]) -> None:
    name = component.name.encode("utf-8")
    out.append(b"BEGIN:" + name + _CRLF)
    for prop in component.properties:
        out.append(serialize_property(prop, legacy=legacy))
    for sub in component.components:
        _emit(sub, legacy, out)
    out.append(b"END:" + name + _CRLF)


def serialize(component: Component, *, version: str | None = None) -> bytes:
    """CRLF-terminated bytes; ``version`` (default: the VERSION property)
    selects 2.1-style base64 blank lines."""
    legacy = is_legacy(version if version is not None else component.version)
    out: list[bytes] = []
    _emit(component, legacy, out)
    return b"".join(out)
