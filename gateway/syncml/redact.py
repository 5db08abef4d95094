"""A SyncML message as an operator may read it: XML with every secret masked.

``redact(xml)`` masks the text of credentials (``Cred/Data``), nonces (``NextNonce``)
and any element whose name says it holds a secret (``Password``, ``AAUTHSECRET``,
``AAUTHDATA``, ``PIN``); ``Cred/Meta`` keeps its Type so the scheme stays visible. The
result is text for a trace view; a document that does not parse is not shown at all.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["MASK", "SECRET_ELEMENTS", "redact"]

MASK = "***"
SECRET_ELEMENTS = frozenset({"NextNonce", "Password", "AAUTHSECRET", "AAUTHDATA", "PIN",
                             "PWD", "Secret"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True, remove_pis=True)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def redact(xml: bytes) -> str:
    """The document with secrets masked, pretty-printed; a placeholder if unreadable."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        return f"(not shown: unreadable XML: {exc})"
    for el in root.iter():
        name = _local(el.tag)
        if name in SECRET_ELEMENTS or (name == "Data" and el.getparent() is not None
                                       and _local(el.getparent().tag) == "Cred"):
            for child in list(el):
                el.remove(child)
            el.text = MASK
    return etree.tostring(root, pretty_print=True, encoding="unicode")
