"""The vFormat line syntax shared by vCard 2.1/3.0/4.0, vCalendar 1.0 and
iCalendar 2.0 (vCard 2.1 §2.1; RFC 2425 §5.8; RFC 5545 §3.1): parse bytes into
`Component`/`Property` values (serializing: `gateway.content.serializer`).

Model: `Property.value` is text with the transfer encoding removed
(quoted-printable decoded and its CHARSET applied) but with the line's
backslash escaping left as written; BASE64 values stay base64 text. Escaping
helpers are in `gateway.content.escaping`. The ENCODING/CHARSET params are
kept, so serializing re-applies the same transfer encoding.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Iterator

from gateway.content.errors import ContentError
from gateway.content.model import (
    BASE64,
    QP,
    Component,
    Property,
    charset_of,
    encoding_of,
    is_legacy,
)
from gateway.content.serializer import serialize, serialize_property

__all__ = [
    "BASE64",
    "QP",
    "Component",
    "Property",
    "parse",
    "parse_all",
    "parse_line",
    "scan",
    "find_lines",
    "serialize",
    "serialize_property",
    "unfold",
    "unfolded",
    "is_legacy",
]


# LF (after junk blank lines too) + one space/tab; not after "=", which may be
# a quoted-printable soft break whose next line starts with a space.
_FOLD = re.compile(rb"\n+(?<!=\n)[ \t]")
_FOLD_SLOW_CASE = re.compile(rb"[\n=]\n[ \t]")   # after a blank line or a QP soft break


def _unfold_text(data: bytes) -> bytes:
    if b"\r\n" in data:
        data = data.replace(b"\r\n", b"\n")
    if b"\n " not in data and b"\n\t" not in data:
        return data
    if _FOLD_SLOW_CASE.search(data):
        return _FOLD.sub(b"", data)
    return data.replace(b"\n ", b"").replace(b"\n\t", b"")
_BOM = b"\xef\xbb\xbf"


def unfold(data: bytes) -> list[bytes]:
    """Logical lines: folding and QP soft line breaks undone, blank lines dropped.
    The one unfolding of vObjects (the engine's fingerprints and filters use it too)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    text = _plain_text(data)
    if text is not None:
        return text.split(b"\n")
    if data.startswith(_BOM):
        data = data[3:]
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac line ends
    lines = _unfold_text(data).split(b"\n")
    out: list[bytes] = []
    i, count = 0, len(lines)
    while i < count:
        line = lines[i]
        i += 1
        if line.endswith(b"\r"):
            line = line[:-1]  # a lone CR before LF
        if not line or (line.isspace() and not (out and out[-1].endswith(b"="))):
            continue
        if line[:1] in b" \t" and out:
            line = out.pop() + line[1:]  # folded after a line ending in "="
        elif out and b":" not in line and _B64_LINE.fullmatch(line) and _is_b64_line(out[-1]):
            out[-1] += line.strip()  # unindented 2.1 base64 continuation
            continue
        if line.endswith(b"=") and _is_qp_line(line):
            parts = [line[:-1]]
            while i < count:
                nxt = lines[i]
                i += 1
                if not nxt and i < count:
                    continue  # blank line doubled by a broken transport
                if nxt.endswith(b"="):
                    parts.append(nxt[:-1])
                    continue
                parts.append(nxt)
                break
            line = b"".join(parts)
        out.append(line)
    return out


_B64_LINE = re.compile(rb"[ \t]*[A-Za-z0-9+/=]+[ \t]*")
_BASE64 = re.compile(rb"base64", re.IGNORECASE)


def _plain_text(data: bytes) -> bytes | None:
    """``b"\\n".join(unfold(data))`` when nothing in ``data`` needs the line loop of
    ``unfold`` (no CR but in CRLF, no line ending in "=", no blank line, no VT or FF
    that could make one, no BOM, no leading blank, no BASE64 parameter): folding undone
    by C-level scans and replaces, as for most items; else None."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
    if (b"=\n" in data or b"\n\n" in data or b"\x0b" in data or b"\x0c" in data
            or data.startswith(_BOM)):
        return None
    if b"\n " in data or b"\n\t" in data:
        data = data.replace(b"\n ", b"").replace(b"\n\t", b"")
    data = data.strip(b"\n")
    if data[:1] in b" \t" or data.endswith(b"=") or (
            b"64" in data and _BASE64.search(data) is not None):
        return None      # (an empty ``data`` too: b"" is in b" \t")
    return data


def unfolded(data: bytes) -> bytes:
    """The logical lines of ``data`` as one text, ``b"\\n".join(unfold(data))``, made
    without splitting it when it can be (``_plain_text``)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    text = _plain_text(data)
    return text if text is not None else b"\n".join(unfold(data))


def _is_b64_line(line: bytes) -> bool:
    colon = _colon_index(line)
    return colon > 0 and b"BASE64" in line[:colon].upper()


def _is_qp_line(line: bytes) -> bool:
    colon = _colon_index(line)
    return colon > 0 and b"QUOTED-PRINTABLE" in line[:colon].upper()


def _split_quoted(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    if '"' not in text:
        return text.split(sep)
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def _decode_text(raw: bytes, charset: str | None) -> str:
    if charset is not None and charset.upper() not in ("UTF-8", "UTF8"):
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _colon_index(line: bytes) -> int:
    colon = line.find(b":")
    quote = line.find(b'"')
    if quote < 0 or colon < quote:
        return colon
    quoted = False
    for i, byte in enumerate(line):
        if byte == 0x22:
            quoted = not quoted
        elif byte == 0x3A and not quoted:
            return i
    return -1


def parse_line(line: bytes) -> Property | None:
    """One unfolded content line, or None for junk without a ``:``."""
    colon = _colon_index(line)
    if colon <= 0:
        return None
    head = _decode_text(line[:colon], None)
    if ";" not in head:  # fast path: no params
        group, _, name = head.strip().rpartition(".")
        try:
            value = line[colon + 1 :].decode("utf-8")
        except UnicodeDecodeError:
            value = line[colon + 1 :].decode("latin-1")
        return Property(name=name.upper(), value=value, group=group or None)
    parts = _split_quoted(head, ";")
    group, _, name = parts[0].strip().rpartition(".")
    params: list[tuple[str, tuple[str, ...]]] = []
    for part in parts[1:]:
        key, eq, raw = part.partition("=")
        key = key.strip().upper()
        if not key:
            continue
        if eq:
            params.append((key, tuple(_unquote(v) for v in _split_quoted(raw, ","))))
        else:
            params.append((key, ()))
    params_t = tuple(params)
    raw_value = line[colon + 1 :]
    encoding = encoding_of(params_t) if params_t else None
    if encoding == QP:
        value = _decode_text(binascii.a2b_qp(raw_value), charset_of(params_t))
    elif encoding == BASE64:
        value = b"".join(raw_value.split()).decode("ascii", "replace")
    else:
        value = _decode_text(raw_value, charset_of(params_t) if params_t else None)
    return Property(name=name.upper(), params=params_t, value=value, group=group or None)


class _Builder:
    __slots__ = ("name", "properties", "components")

    def __init__(self, name: str) -> None:
        self.name = name
        self.properties: list[Property] = []
        self.components: list[Component] = []

    def build(self) -> Component:
        return Component(
            name=self.name, properties=tuple(self.properties), components=tuple(self.components)
        )


def _begin_end(line: bytes) -> tuple[str, str] | None:
    if line[:1] not in b"BbEe":
        return None
    head = line[:6].upper()
    if head.startswith(b"BEGIN:") or head.startswith(b"END:"):
        key, _, name = line.partition(b":")
        return key.strip().upper().decode("ascii", "replace"), name.strip().upper().decode(
            "utf-8", "replace"
        )
    return None


def parse_all(data: bytes) -> tuple[Component, ...]:
    """Every top-level component in ``data``; ContentError if there is none."""
    stack: list[_Builder] = []
    top: list[Component] = []
    for line in unfold(data):
        marker = _begin_end(line)
        if marker is not None:
            key, name = marker
            if key == "BEGIN":
                stack.append(_Builder(name))
                continue
            if not any(b.name == name for b in stack):
                continue  # stray END
            while stack:
                done = stack.pop().build()
                (stack[-1].components if stack else top).append(done)
                if done.name == name:
                    break
            continue
        if not stack:
            continue  # junk outside any component
        prop = parse_line(line)
        if prop is not None:
            stack[-1].properties.append(prop)
    while stack:  # missing END lines
        done = stack.pop().build()
        (stack[-1].components if stack else top).append(done)
    if not top:
        raise ContentError("not a vObject: no BEGIN line")
    return tuple(top)


def parse(data: bytes) -> Component:
    """The first top-level component of ``data``."""
    return parse_all(data)[0]


def scan(data: bytes, names: Iterable[str]) -> Iterator[tuple[int, Property]]:
    """Only the lines named in ``names`` (plus BEGIN/END), with their nesting
    depth, without parsing the others: cheap look-ups (UID, N, TEL)."""
    wanted = {n.encode("ascii") for n in names}
    depth = 0
    for line in unfold(data):
        marker = _begin_end(line)
        if marker is not None:
            depth += 1 if marker[0] == "BEGIN" else -1
            yield depth, Property(name=marker[0], value=marker[1])
            continue
        end = len(line)
        for sep in (b";", b":"):
            pos = line.find(sep, 0, end)
            if pos >= 0:
                end = pos
        name = line[:end].rpartition(b".")[2].strip().upper()
        if name in wanted:
            prop = parse_line(line)
            if prop is not None:
                yield depth, prop


_LINE_PATTERNS: dict[str, re.Pattern[bytes]] = {}
_FOLDED_TAIL = re.compile(rb"(?:\r?\n[ \t][^\r\n]*)*")


def find_lines(data: bytes, name: str) -> Iterator[tuple[int, Property]]:
    """Lines named ``name`` found by a regex over the raw bytes, with their
    offset: no unfolding or parsing of the other lines (cheap UID look-up)."""
    pattern = _LINE_PATTERNS.get(name)
    if pattern is None:
        pattern = re.compile(
            rb"(?:^|(?<=\n))(?:[A-Za-z0-9-]+\.)?" + re.escape(name.encode()) + rb"[;:][^\r\n]*",
            re.IGNORECASE,
        )
        _LINE_PATTERNS[name] = pattern
    for match in pattern.finditer(data):
        line = match.group(0)
        tail = _FOLDED_TAIL.match(data, match.end()).group(0)
        if tail:
            line += _unfold_text(tail)
        if line.endswith(b"=") and _is_qp_line(line):
            line = unfold(data[match.start() :])[0]
        prop = parse_line(line)
        if prop is not None:
            yield match.start(), prop
