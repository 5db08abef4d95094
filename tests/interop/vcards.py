"""Generated test contacts and a store-independent comparison key for vCards."""
from __future__ import annotations

import base64
import binascii
import quopri
import random
import re

_GIVEN = ("Anna", "Bernd", "Chloé", "Dmitri", "Eva", "Farid", "Grete", "Hiro", "Ines", "Jörg",
          "Kateřina", "Liam", "Maja", "Nils", "Olga", "Pål")
_FAMILY = ("Abel", "Brandt", "Černý", "Dahl", "Engel", "Fischer", "García", "Huber", "Ivanova",
           "Jansen", "Kowalski", "Lindqvist", "Müller", "Nowak", "Østergaard", "Peters")
_JPEG_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _fold(line: str) -> str:
    """Fold one content line at 75 octets (RFC 2425 section 5.8.1), CRLF-terminated."""
    raw = line.encode("utf-8")
    parts, start, limit = [], 0, 75
    while len(raw) - start > limit:
        end = start + limit
        while end > start and (raw[end] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, 74  # continuation lines start with one space
    parts.append(raw[start:])
    return "\r\n ".join(p.decode("utf-8") for p in parts) + "\r\n"


def make_vcards(n: int, seed: int = 0, photo_bytes: int = 0) -> dict[str, bytes]:
    """``n`` distinct vCard 3.0 contacts (CRLF) keyed by file name ``c<seed>-<i>.vcf``."""
    rng = random.Random(seed)
    cards = {}
    for i in range(1, n + 1):
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        family = f"{family}{i:06d}"
        lines = [
            "BEGIN:VCARD", "VERSION:3.0",
            f"UID:omads-{seed}-{i:06d}",
            f"N:{family};{given};;;",
            f"FN:{given} {family}",
            f"TEL;TYPE=CELL:+49{rng.randrange(10**9, 10**10)}",
            f"EMAIL;TYPE=INTERNET:{given.lower()}.{i}.{seed}@example.org".encode(
                "ascii", "ignore").decode(),
        ]
        if photo_bytes:
            blob = (_JPEG_HEADER + rng.randbytes(max(0, photo_bytes - len(_JPEG_HEADER))))
            blob = blob[:photo_bytes]
            lines.append("PHOTO;ENCODING=b;TYPE=JPEG:" + base64.b64encode(blob).decode())
        lines.append("END:VCARD")
        cards[f"c{seed}-{i:06d}.vcf"] = "".join(_fold(line) for line in lines).encode("utf-8")
    return cards


# Properties that say nothing about the contact itself, or that SyncEvolution adds/drops.
_IGNORED = frozenset({"BEGIN", "END", "VERSION", "PRODID", "REV", "UID"})
_UNESCAPE = re.compile(r"\\(.)", re.S)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, buf, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _params(raw: list[str]) -> dict[str, set[str]]:
    params: dict[str, set[str]] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep:  # vCard 2.1 bare parameter: "TEL;CELL"
            name, value = "TYPE", name
        values = {v.strip().strip('"').upper() for v in value.split(",") if v.strip()}
        params.setdefault(name.strip().upper(), set()).update(values)
    return params


def _property(line: str) -> tuple | None:
    head, sep, value = line.partition(":")
    if not sep:
        return None
    head_parts = _split_unescaped(head, ";")
    name = head_parts[0].rsplit(".", 1)[-1].strip().upper()  # drop "item1." groups
    if name in _IGNORED or name.startswith("X-"):
        return None
    params = _params(head_parts[1:])
    encoding = params.pop("ENCODING", set())
    params.pop("CHARSET", None)
    if encoding & {"B", "BASE64"}:
        try:
            blob = base64.b64decode("".join(value.split()), validate=False)
        except (binascii.Error, ValueError):
            blob = value.encode()
        if not blob:
            return None
        return (name, _param_key(params), ("base64", base64.b64encode(blob).decode()))
    if "QUOTED-PRINTABLE" in encoding:
        value = quopri.decodestring(value.encode()).decode("utf-8", "replace")
    parts = [_unescape(p).strip() for p in _split_unescaped(value, ";")]
    while parts and not parts[-1]:
        parts.pop()
    if not parts:
        return None
    return (name, _param_key(params), tuple(parts))


def _param_key(params: dict[str, set[str]]) -> tuple:
    return tuple(sorted((k, tuple(sorted(v))) for k, v in params.items() if v))


def _qp_continues(line: str) -> bool:
    head = line.partition(":")[0].upper()
    return "QUOTED-PRINTABLE" in head and line.endswith("=")


def normalize_vcard(data: bytes) -> tuple:
    """Comparison key for "the same contact": sorted properties, ignoring order, folding,
    PRODID/REV/UID/VERSION, X- properties, empty values and TYPE case/order."""
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\n[ \t]", "", text)  # unfold
    lines: list[str] = []
    for line in text.split("\n"):
        if lines and _qp_continues(lines[-1]):
            lines[-1] = lines[-1][:-1] + line  # vCard 2.1 quoted-printable soft break
        else:
            lines.append(line)
    props = (_property(line) for line in lines if line.strip())
    return tuple(sorted(p for p in props if p is not None))
