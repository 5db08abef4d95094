"""Notes as ``text/plain`` and as vNote 1.1 (``text/x-vnote``: BEGIN:VNOTE,
VERSION:1.1, BODY, SUMMARY; IrMC 1.1 "vNote", line rules as vCard 2.1)."""

from __future__ import annotations

from gateway.content import escaping
from gateway.content.errors import ContentError
from gateway.content.vformat import Component, Property, parse, serialize

__all__ = [
    "decode_plain",
    "plain_to_vnote",
    "vnote_to_plain",
    "note_text",
    "extract_uid",
    "SUMMARY_CHARS",
]

SUMMARY_CHARS = 80  # first-line summary length (Nokia S40 truncates NOTE-like fields near 80)


def decode_plain(data: bytes) -> str:
    """text/plain bytes: UTF-8 (BOM tolerated), else ISO-8859-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def note_text(note: Component) -> str:
    """The note's text: BODY, else SUMMARY; line breaks as written."""
    if note.name != "VNOTE":
        raise ContentError(f"not a vNote: BEGIN:{note.name}")
    legacy = (note.version or "1.1") != "3.0"
    for name in ("BODY", "SUMMARY"):
        prop = note.first(name)
        if prop is not None and prop.value:
            return escaping.unescape(prop.value, legacy=legacy)
    return ""


def vnote_to_plain(data: bytes) -> bytes:
    return note_text(parse(data)).encode("utf-8")


def _text_property(name: str, text: str) -> Property:
    value = text.replace("\r\n", "\n").replace("\r", "\n")
    params = tuple(escaping.legacy_transfer(value))
    if params and params[0][0] == "ENCODING":
        value = value.replace("\n", "\r\n")
    return Property(name=name, params=params, value=value)


def plain_to_vnote(data: bytes) -> bytes:
    """text/plain -> vNote 1.1 with BODY and a first-line SUMMARY."""
    text = decode_plain(data)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    props = [Property(name="VERSION", value="1.1")]
    if first:
        props.append(_text_property("SUMMARY", first[:SUMMARY_CHARS]))
    props.append(_text_property("BODY", text))
    return serialize(Component(name="VNOTE", properties=tuple(props)), version="1.1")


def extract_uid(data: bytes) -> str | None:
    """UID (or X-IRMC-LUID) of a vNote; None for plain text."""
    if b"BEGIN:VNOTE" not in data[:64].upper():
        return None
    note = parse(data)
    for name in ("UID", "X-IRMC-LUID"):
        value = (note.value(name) or "").strip()
        if value:
            return value
    return None
