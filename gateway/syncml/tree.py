"""The neutral element tree that both codecs (XML and WBXML) read into and write from.

A SyncML document has no attributes and no mixed content, so an element is a local tag
name, the namespace it belongs to (one of the three SyncML DTDs, or an unknown URI kept
as-is), and either children or a leaf value:

* ``str``   -- character data (XML text/CDATA, WBXML STR_I/STR_T/ENTITY),
* ``bytes`` -- opaque data (WBXML OPAQUE; never produced by the XML codec),
* ``None``  -- an empty element (``<Final/>``).

A nested document (DevInf inside ``<Data>``) is a child element whose ``ns`` is
``NS_DEVINF``; in WBXML it travels as an OPAQUE nested WBXML document, in XML inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

# Namespaces are short interned names; an unknown XML namespace keeps its URI.
NS_SYNCML = "SYNCML"   # SyncML RepPro, WBXML code page 0 of the SyncML document
NS_METINF = "METINF"   # syncml:metinf, WBXML code page 1 of the SyncML document
NS_DEVINF = "DEVINF"   # syncml:devinf, code page 0 of the (nested) DevInf document

Value = Union[str, bytes, None]


class Element:
    """One element. Mutable while a codec builds it; treat as read-only afterwards."""

    __slots__ = ("tag", "ns", "children", "text")

    def __init__(self, tag: str, ns: str = NS_SYNCML, children: list["Element"] | None = None,
                 text: Value = None):
        self.tag = tag
        self.ns = ns
        self.children = children if children is not None else []
        self.text = text

    # -- navigation helpers used by the model mapping -------------------------------
    def find(self, tag: str) -> "Element | None":
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def findall(self, tag: str) -> list["Element"]:
        return [c for c in self.children if c.tag == tag]

    def findtext(self, tag: str) -> str | None:
        child = self.find(tag)
        if child is None:
            return None
        return child.value_str()

    def value_str(self) -> str | None:
        """The leaf value as text (opaque bytes are read as UTF-8, lossless or not at all)."""
        t = self.text
        if t is None or isinstance(t, str):
            return t
        return t.decode("utf-8", "surrogateescape")

    def iter(self) -> Iterator["Element"]:
        yield self
        for child in self.children:
            yield from child.iter()

    # -- comparison for tests -------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Element):
            return NotImplemented
        return (self.tag == other.tag and self.ns == other.ns and self.text == other.text
                and self.children == other.children)

    def __repr__(self) -> str:
        if self.children:
            return f"<{self.tag} ns={self.ns} {len(self.children)} children>"
        return f"<{self.tag} ns={self.ns} {self.text!r}>"


@dataclass(frozen=True, kw_only=True)
class DecodeLimits:
    """Limits every decoder enforces; exceeding one is a DecodeError, never a crash."""

    max_bytes: int = 16 * 1024 * 1024     # whole message
    max_depth: int = 64                   # element nesting (nested DevInf included)
    max_elements: int = 1_000_000         # elements in one message
    max_nested: int = 2                   # nested documents within a document


DEFAULT_LIMITS = DecodeLimits()
