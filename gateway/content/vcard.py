"""vCard 2.1 <-> 3.0 conversion, cheap UID look-up and slow-sync pairing keys.

vCard 2.1: versit "vCard 2.1" spec; vCard 3.0: RFC 2426 on RFC 2425.
"""

from __future__ import annotations

import re

from gateway.content import escaping
from gateway.content.errors import ContentError
from gateway.content.vformat import (
    BASE64,
    QP,
    Component,
    Property,
    find_lines,
    parse,
    serialize,
)

__all__ = [
    "to_version",
    "convert_card",
    "normalise_tel",
    "extract_uid",
    "content_key",
    "STRUCTURED",
    "LISTS",
    "VERBATIM",
]

# Compound values whose components are separated by ';' (RFC 2426 §3.1.2, §3.2.1, §3.5.5).
STRUCTURED = frozenset({"N", "ADR", "ORG", "GEO"})
# Values that are comma-separated lists in 3.0 (RFC 2426 §3.1.3, §3.6.1).
LISTS = frozenset({"CATEGORIES", "NICKNAME"})
# Not text: no escaping applies (RFC 2426 value types date, uri, phone-number, binary...).
VERBATIM = frozenset(
    {"VERSION", "TEL", "BDAY", "REV", "TZ", "URL", "PHOTO", "LOGO", "SOUND", "KEY", "AGENT"}
)
# 3.0-only meta properties dropped when writing 2.1 (RFC 2426 §2.1).
_DROP_IN_21 = frozenset({"PROFILE", "NAME", "SOURCE"})
# Binary-capable properties keep TYPE= (not bare params) in 2.1, as phones write them.
_KEEP_TYPE_PARAM = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
_TRANSFER_BARE = frozenset({QP, BASE64, "8BIT", "7BIT"})


def _text_sep(name: str, legacy: bool) -> str | None:
    if name in STRUCTURED:
        return ";"
    if name in LISTS:
        return ","
    return None


def _plain_parts(prop: Property, legacy: bool) -> list[str]:
    sep = _text_sep(prop.name, legacy)
    if legacy and prop.name in LISTS:
        # 2.1 writers use ',' or ';' between categories
        chunks = escaping.values_of(prop.value, legacy=True)
        return [item for chunk in chunks for item in chunk.split(",")]
    return escaping.values_of(prop.value, legacy=legacy, sep=sep)


def _to_30(prop: Property) -> Property:
    types: list[str] = []
    params: list[tuple[str, tuple[str, ...]]] = []
    for key, values in prop.params:
        if not values:
            if key == BASE64:
                params.append(("ENCODING", ("b",)))
            elif key not in _TRANSFER_BARE:
                types.append(key)
        elif key == "ENCODING":
            if values[0].upper() in ("BASE64", "B"):
                params.append(("ENCODING", ("b",)))
        elif key == "CHARSET":
            continue
        elif key == "TYPE":
            types.extend(values)
        elif key == "VALUE" and values[0].upper() == "URL":
            params.append(("VALUE", ("uri",)))
        else:
            params.append((key, values))
    if types:
        params.insert(0, ("TYPE", tuple(types)))
    value = prop.value
    if prop.encoding != BASE64 and prop.name not in VERBATIM:
        parts = _plain_parts(prop, legacy=True)
        value = escaping.value_from(parts, legacy=False, sep=_text_sep(prop.name, False))
    return Property(name=prop.name, params=tuple(params), value=value, group=prop.group)


def _to_21(prop: Property, *, charset: str, qp_non_ascii: bool) -> Property:
    params: list[tuple[str, tuple[str, ...]]] = []
    for key, values in prop.params:
        if key == "TYPE" and prop.name not in _KEEP_TYPE_PARAM:
            params.extend((v.upper(), ()) for v in values if v)
        elif key == "ENCODING":
            if values and values[0].upper() in ("B", "BASE64"):
                params.append(("ENCODING", ("BASE64",)))
        elif key == "CHARSET":
            continue
        elif key == "VALUE" and values and values[0].lower() == "uri":
            params.append(("VALUE", ("URL",)))
        else:
            params.append((key, values))
    value = prop.value
    if prop.encoding != BASE64:
        if prop.name not in VERBATIM:
            parts = escaping.values_of(prop.value, legacy=False, sep=_text_sep(prop.name, False))
            if prop.name in LISTS:
                value = ",".join(parts)
            else:
                value = escaping.value_from(parts, legacy=True, sep=_text_sep(prop.name, True))
        params.extend(escaping.legacy_transfer(value, charset=charset, qp_non_ascii=qp_non_ascii))
        if "\n" in value or "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return Property(name=prop.name, params=tuple(params), value=value, group=prop.group)


def _derive_fn(card: Component) -> str:
    n = card.value("N")
    if n:
        parts = escaping.values_of(n, legacy=False)
        words = [p for p in (parts[3:4] + parts[1:3] + parts[0:1] + parts[4:5]) if p]
        if words:
            return escaping.escape(" ".join(words), legacy=False)
    org = card.value("ORG")
    return escaping.split_escaped(org)[0] if org else ""


def convert_card(
    card: Component, version: str, *, charset: str = "UTF-8", qp_non_ascii: bool = False
) -> Component:
    """``card`` rewritten as vCard ``version`` ("2.1" or "3.0").

    ``charset``/``qp_non_ascii`` tune 2.1 output for phones that want e.g.
    ISO-8859-1 or quoted-printable for every 8-bit value."""
    if card.name != "VCARD":
        raise ContentError(f"not a vCard: BEGIN:{card.name}")
    source = card.version or "2.1"
    if version not in ("2.1", "3.0"):
        raise ContentError(f"unsupported vCard version {version!r}")
    if source == version:
        return card
    props: list[Property] = [Property(name="VERSION", value=version)]
    for prop in card.properties:
        if prop.name == "VERSION":
            continue
        if version == "3.0":
            props.append(_to_30(prop))
        elif prop.name not in _DROP_IN_21:
            props.append(_to_21(prop, charset=charset, qp_non_ascii=qp_non_ascii))
    out = card.with_(properties=tuple(props))
    if version == "3.0":
        extra = []
        if out.first("N") is None:
            extra.append(Property(name="N", value=""))
        if out.first("FN") is None:
            extra.append(Property(name="FN", value=_derive_fn(out)))
        if extra:
            out = out.with_(properties=(props[0], *extra, *props[1:]))
    return out


def to_version(data: bytes, version: str, **options) -> bytes:
    """Bytes of a vCard in any version -> bytes of vCard ``version``."""
    card = parse(data)
    if card.version == version:
        return data
    return serialize(convert_card(card, version, **options), version=version)


def extract_uid(data: bytes) -> str | None:
    """The UID of a vCard by a regex scan (no parse); None when absent/empty."""
    for _, prop in find_lines(data, "UID"):
        uid = escaping.unescape(prop.value, legacy=False).strip()
        return uid or None
    return None


_WORD = re.compile(r"[^\W_]+")


def _name_words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def content_key(data: bytes, *, use_uid: bool = True) -> str:
    """A normalised identity key for pairing vCards on slow sync.

    ``uid:<UID>`` when the card has a UID (and ``use_uid``); otherwise
    ``n:<sorted name words>|t:<lowest phone digits>`` (or ``|e:<email>``):
    N (or FN) words ignoring order and case, plus the smallest normalised
    TEL (or EMAIL) so that the devices' ordering does not matter."""

    def first(name: str) -> str | None:
        for _, prop in find_lines(data, name):
            return prop.value
        return None

    version = first("VERSION")
    legacy = version is None or version.strip() == "2.1"
    uid = first("UID") if use_uid else None
    if uid is not None:
        uid = uid.strip()
    n = first("N")
    fn = first("FN")
    tels = [d for d in (normalise_tel(p.value) for _, p in find_lines(data, "TEL")) if d]
    emails = [] if tels else [
        p.value.strip().casefold() for _, p in find_lines(data, "EMAIL") if p.value.strip()
    ]
    if use_uid and uid:
        return "uid:" + escaping.unescape(uid, legacy=legacy)
    words: list[str] = []
    if n:
        for part in escaping.values_of(n, legacy=legacy)[:3]:
            words.extend(_name_words(part))
    if not words and fn:
        words = _name_words(escaping.unescape(fn, legacy=legacy))
    key = "n:" + " ".join(sorted(words))
    if tels:
        key += "|t:" + min(tels)
    elif emails:
        key += "|e:" + min(emails)
    return key


def normalise_tel(value: str) -> str:
    """Phone number without formatting: digits, leading ``+`` kept."""
    value = value.strip()
    digits = re.sub(r"[^0-9]", "", value)
    return ("+" + digits) if value.startswith("+") and digits else digits
