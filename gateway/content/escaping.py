"""Backslash escaping of vFormat text values, per version.

Legacy (vCard 2.1 §2.1.3, vCalendar 1.0 §2.1.3, vNote 1.1): only ``\\;`` is an
escape, inside compound values; line breaks travel quoted-printable.
Modern (vCard 3.0 RFC 2426 §4 / RFC 2425 §5.8.4, iCalendar RFC 5545 §3.3.11):
``\\\\`` ``\\;`` ``\\,`` and ``\\n``/``\\N`` for a line break.
Other backslashes are kept as written (lenient: ``C:\\temp``).
"""

from __future__ import annotations

import re

__all__ = [
    "legacy_transfer",
    "escape", "unescape", "split_escaped", "join_escaped", "values_of", "value_from"]

_MODERN_UNESCAPE = {"\\": "\\", ";": ";", ",": ",", "n": "\n", "N": "\n"}
_MODERN_RE = re.compile(r"\\([\\;,nN])")
_LEGACY_RE = re.compile(r"\\;")


def unescape(text: str, *, legacy: bool) -> str:
    """Escaped text of one (component of a) value -> plain text."""
    if "\\" not in text:
        return text
    if legacy:
        return _LEGACY_RE.sub(";", text)
    return _MODERN_RE.sub(lambda m: _MODERN_UNESCAPE[m.group(1)], text)


def escape(text: str, *, legacy: bool, compound: bool = True) -> str:
    """Plain text -> escaped text. Legacy escapes ``;`` only in compound values
    and leaves line breaks to quoted-printable; modern escapes all four."""
    if legacy:
        return text.replace(";", "\\;") if compound else text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def split_escaped(value: str, sep: str = ";") -> list[str]:
    """Split on ``sep`` not preceded by an escaping backslash; parts stay escaped."""
    if "\\" not in value:
        return value.split(sep)
    out, start, i, n = [], 0, 0, len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == sep:
            out.append(value[start:i])
            start = i + 1
        i += 1
    out.append(value[start:])
    return out


def join_escaped(parts: list[str], sep: str = ";") -> str:
    return sep.join(parts)


def values_of(value: str, *, legacy: bool, sep: str | None = ";") -> list[str]:
    """The plain-text components of an escaped value (``sep=None``: one text)."""
    if sep is None:
        return [unescape(value, legacy=legacy)]
    return [unescape(part, legacy=legacy) for part in split_escaped(value, sep)]


def value_from(parts: list[str], *, legacy: bool, sep: str | None = ";") -> str:
    """Inverse of `values_of`."""
    if sep is None:
        return escape(parts[0] if parts else "", legacy=legacy, compound=False)
    return sep.join(escape(p, legacy=legacy, compound=True) for p in parts)


def legacy_transfer(value: str, *, charset: str = "UTF-8", qp_non_ascii: bool = False) -> list:
    """ENCODING/CHARSET params a legacy (2.1/1.0) text value needs: line breaks
    travel quoted-printable (vCard 2.1 §2.1.3), 8-bit text names its CHARSET."""
    out = []
    ascii_only = value.isascii()
    if "\n" in value or "\r" in value or (qp_non_ascii and not ascii_only):
        out.append(("ENCODING", ("QUOTED-PRINTABLE",)))
    if not ascii_only:
        out.append(("CHARSET", (charset,)))
    return out
