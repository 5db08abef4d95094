"""One entry point for converting an item between the content types the DS
engine sees in Meta Type / CTType (omads-protocol §8.1)."""

from __future__ import annotations

from gateway.content import notes, vcalendar, vcard
from gateway.content.errors import ContentError

__all__ = ["convert", "item_uid", "content_family", "normalise_type", "TYPES"]

# content type -> (family, version)   (omads-protocol.md §8.1)
TYPES: dict[str, tuple[str, str]] = {
    "text/x-vcard": ("vcard", "2.1"),
    "text/vcard": ("vcard", "3.0"),
    "text/directory": ("vcard", "3.0"),  # RFC 2425 MIME type with profile=vCard
    "text/x-vcalendar": ("calendar", "1.0"),
    "text/calendar": ("calendar", "2.0"),
    "text/plain": ("note", "plain"),
    "text/x-vnote": ("note", "vnote"),
}


def normalise_type(content_type: str) -> str:
    """Lower-case media type without parameters (``; charset=UTF-8``)."""
    return content_type.split(";", 1)[0].strip().lower()


def content_family(content_type: str) -> tuple[str, str]:
    """(family, version) of a content type; ContentError if unknown."""
    try:
        return TYPES[normalise_type(content_type)]
    except KeyError:
        raise ContentError(f"unsupported content type {content_type!r}") from None


def convert(data: bytes, from_type: str, to_type: str) -> bytes:
    """``data`` of ``from_type`` as ``to_type``; identity when both are equal.

    Devices sometimes declare one type and send the other version (the SE P900
    sends vCalendar 1.0 as ``text/calendar``), so the item's own VERSION decides
    what is converted; data already in the target version is returned as is."""
    source, target = normalise_type(from_type), normalise_type(to_type)
    if source == target:
        return data
    family, _ = content_family(source)
    target_family, version = content_family(target)
    if family != target_family:
        raise ContentError(f"cannot convert {from_type} to {to_type}")
    if family == "vcard":
        return vcard.to_version(data, version)
    if family == "calendar":
        return vcalendar.to_version(data, version)
    is_vnote = data.lstrip()[:11].upper() == b"BEGIN:VNOTE"
    if version == "vnote":
        return data if is_vnote else notes.plain_to_vnote(data)
    return notes.vnote_to_plain(data) if is_vnote else data


def item_uid(data: bytes, content_type: str) -> str | None:
    """The item's own UID (vCard/vCalendar/vNote), None when it has none."""
    family, version = content_family(content_type)
    if family == "vcard":
        return vcard.extract_uid(data)
    if family == "calendar":
        return vcalendar.extract_uid(data)
    if version == "vnote" or data.lstrip()[:11].upper() == b"BEGIN:VNOTE":
        return notes.extract_uid(data)
    return None
