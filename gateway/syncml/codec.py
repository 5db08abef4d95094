"""Bytes <-> model: the one entry point the engines and tools use.

``decode_message(data, content_type)`` picks the XML or WBXML codec from the media type
(parameters such as ``; charset=UTF-8`` are ignored) and maps the tree to the model;
``encode_message(msg, content_type)`` does the reverse.
"""

from __future__ import annotations

from gateway.syncml import wbxml, xmlcodec
from gateway.syncml.devinf import DevInf, devinf_from_tree, devinf_to_tree
from gateway.errors import RemoteProtocolError
from gateway.syncml.errors import ModelDecodeError
from gateway.syncml.model import Message, message_from_tree, message_to_tree
from gateway.syncml.tree import DEFAULT_LIMITS, DecodeLimits, Element

XML = "application/vnd.syncml+xml"
WBXML = "application/vnd.syncml+wbxml"
DEVINF_XML = "application/vnd.syncml-devinf+xml"
DEVINF_WBXML = "application/vnd.syncml-devinf+wbxml"
SAN = "application/vnd.syncml.ds.notification"

_MEDIA = {XML: XML, WBXML: WBXML, DEVINF_XML: XML, DEVINF_WBXML: WBXML}


def media_type(content_type: str) -> str:
    """The SyncML encoding (``XML`` or ``WBXML``) of a Content-Type; 415 otherwise."""
    base = content_type.split(";", 1)[0].strip().lower()
    try:
        return _MEDIA[base]
    except KeyError:
        raise RemoteProtocolError(f"unsupported media type {base!r}",
                                  error_status_hint=415) from None


def sniff(data: bytes) -> str:
    """Guess the encoding of a message without a usable Content-Type."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return XML if head.startswith(b"<") else WBXML


def decode_tree(data: bytes, content_type: str, *,
                limits: DecodeLimits = DEFAULT_LIMITS) -> Element:
    if media_type(content_type) == WBXML:
        return wbxml.decode(data, limits=limits)
    return xmlcodec.decode(data, limits=limits)


def encode_tree(root: Element, content_type: str) -> bytes:
    if media_type(content_type) == WBXML:
        return wbxml.encode(root)
    return xmlcodec.encode(root)


def decode_message(data: bytes, content_type: str, *,
                   limits: DecodeLimits = DEFAULT_LIMITS) -> Message:
    """Decode one SyncML message; raises a DecodeError subclass (a RemoteProtocolError)."""
    return message_from_tree(decode_tree(data, content_type, limits=limits))


def encode_message(msg: Message, content_type: str) -> bytes:
    return encode_tree(message_to_tree(msg), content_type)


def decode_devinf(data: bytes, content_type: str, *,
                  limits: DecodeLimits = DEFAULT_LIMITS) -> DevInf:
    """A standalone DevInf document (e.g. fetched from a URI the client gave)."""
    root = decode_tree(data, content_type, limits=limits)
    if root.tag != "DevInf":
        raise ModelDecodeError(f"root element is {root.tag!r}, not DevInf", path=root.tag)
    return devinf_from_tree(root)


def encode_devinf(devinf: DevInf, content_type: str) -> bytes:
    return encode_tree(devinf_to_tree(devinf), content_type)
