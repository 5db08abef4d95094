"""The XML codec: SyncML/DevInf XML bytes <-> the neutral element tree (tree.py).

``decode`` parses with lxml, safely (no entity expansion, no DTD loading, no network,
no huge trees) and maps lxml's tree to :class:`~gateway.syncml.tree.Element`, inferring
namespaces for senders that declare none.  ``encode`` writes the tree as text pieces
(measured faster than building an lxml tree and serialising it).
"""

from __future__ import annotations

import re
import threading

from lxml import etree

from .errors import EncodeError, XMLDecodeError
from .tree import DEFAULT_LIMITS, NS_DEVINF, NS_METINF, NS_SYNCML, DecodeLimits, Element
from .xmlnames import (DEFAULT_SYNCML_URI, METINF_NAMES, NS_URI, SYNCML_URI_BY_VERDTD,
                       URI_BAD_CHAR, XML_BAD_CHAR, XML_NAME, ns_from_uri)

__all__ = ["decode", "encode"]

_WS = " \t\r\n"  # XML 1.0 §2.3 S

# ---------------------------------------------------------------------------------------
# Carriage returns.
#
# XML 1.0 §2.11 ("End-of-Line Handling") makes every parser turn CR LF and a lone CR into
# LF *before* parsing, CDATA sections included; only a character reference (&#13;) yields
# a CR.  libxml2 does exactly that.  SyncML peers however put vCards/vCalendars with CRLF
# line ends raw into CDATA (SyncEvolution, Synthesis) or text, and expect them back
# byte-exact (vCard 2.1/3.0 and iCalendar require CRLF).  We therefore deviate from §2.11
# for character data only: before parsing, a CR inside a CDATA section becomes
# ``]]>&#13;<![CDATA[`` and a CR inside a text run that ends at an end tag or a CDATA
# section becomes ``&#13;``; the parser then reports the CR itself.  CRs in markup, in the
# prolog and in whitespace between elements (ignored anyway) are left to §2.11.  Known
# gaps: a CR in leaf text directly before a comment or PI is normalised to LF; a comment
# holding '<![CDATA[' confuses the rewrite (the document may then be refused).
# ---------------------------------------------------------------------------------------
_CDATA_OPEN = b"<![CDATA["
_CDATA_CLOSE = b"]]>"
_CR_IN_CDATA = b"]]>&#13;<![CDATA["
# A text run (after '>') holding a CR.  It starts at the last '>' before its first CR and
# the character classes exclude '<' and '>' so that every byte is scanned a bounded number
# of times (no quadratic retries on adversarial input).  Whether the run ends at an end
# tag is decided in _text_run_sub.
_TEXT_RUN_WITH_CR = re.compile(rb">[^<>\r]*\r[^<]*")


def _text_run_sub(match: re.Match) -> bytes:
    run = match.group(0)
    if match.string.startswith(b"</", match.end()):
        return run.replace(b"\r", b"&#13;")
    return run


def _keep_cr_in_markup(segment: bytes, before_cdata: bool) -> bytes:
    if b"\r" not in segment:
        return segment
    # A segment that precedes a CDATA section ends inside an element: probe it as if an
    # end tag followed.  (A segment after a CDATA section starts with its ']]>'.)
    if not before_cdata:
        return _TEXT_RUN_WITH_CR.sub(_text_run_sub, segment)
    return _TEXT_RUN_WITH_CR.sub(_text_run_sub, segment + b"</")[:-2]


def _keep_cr(data: bytes) -> bytes:
    """Rewrite CRs in character data so that the parser keeps them (see above)."""
    if b"\r" not in data:
        return data
    out: list[bytes] = []
    pos = 0
    while True:
        start = data.find(_CDATA_OPEN, pos)
        if start < 0:
            out.append(_keep_cr_in_markup(data[pos:], False))
            break
        end = data.find(_CDATA_CLOSE, start + 9)
        out.append(_keep_cr_in_markup(data[pos:start], True))
        if end < 0:  # unterminated: the parser reports it
            out.append(data[start:])
            break
        out.append(data[start:end].replace(b"\r", _CR_IN_CDATA))
        pos = end  # the next segment starts with ']]>'
    return b"".join(out)


# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------
_PARSER_OPTIONS = dict(
    resolve_entities=False,  # never expand entities (billion laughs, XXE)
    load_dtd=False,          # never read an external DTD or parameter entity
    no_network=True,
    huge_tree=False,         # keep libxml2's own depth/size safety limits
    dtd_validation=False,
    attribute_defaults=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=True,        # CDATA is plain text in the tree
)
_local = threading.local()  # lxml parsers must not be shared between threads


def _parser(utf8_override: bool) -> etree.XMLParser:
    key = "utf8" if utf8_override else "plain"
    parser = getattr(_local, key, None)
    if parser is None:
        parser = etree.XMLParser(encoding="utf-8" if utf8_override else None, **_PARSER_OPTIONS)
        setattr(_local, key, parser)
    return parser


_UTF32 = {b"\xff\xfe\x00\x00": "utf-32", b"\x00\x00\xfe\xff": "utf-32",
          b"<\x00\x00\x00": "utf-32-le", b"\x00\x00\x00<": "utf-32-be"}


def _wide_encoding(data: bytes) -> str | None:
    """The codec of a UTF-16/UTF-32 document (XML 1.0 Appendix F), None if ASCII-based."""
    head = data[:4]
    if head in _UTF32:
        return _UTF32[head]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "utf-16-be" if head[0] == 0 else "utf-16-le"
    return None


# Start of the root element: the first '<' not opening a PI, comment or DOCTYPE.
_FIRST_START_TAG = re.compile(rb"<[^?!]")
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^\[<>]*\[")


def _check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE with an internal subset (entity declarations live there).

    A DOCTYPE with only a public/system id is fine: load_dtd=False never reads it.
    """
    if b"<!DOCTYPE" not in data:
        return
    m = _FIRST_START_TAG.search(data)
    head = data[: m.start()] if m else data
    if _INTERNAL_SUBSET.search(head):
        raise XMLDecodeError("DOCTYPE with an internal subset (entity declarations) refused",
                             offset=head.find(b"<!DOCTYPE"))


def _check_tree(doc: etree._ElementTree) -> None:
    dtd = doc.docinfo.internalDTD
    if dtd is not None and (any(True for _ in dtd.iterentities())
                            or any(True for _ in dtd.iterelements())):
        raise XMLDecodeError("DTD declarations refused")


def _offset(data: bytes, line: int, column: int) -> int | None:
    """Byte offset of libxml2's 1-based (line, column), if it lies in the data."""
    if line < 1:
        return None
    pos = 0
    for _ in range(line - 1):
        pos = data.find(b"\n", pos) + 1
        if pos == 0:
            return None
    return min(pos + max(column - 1, 0), len(data))


def _path(el: etree._Element) -> str:
    names = []
    while el is not None:
        tag = el.tag
        names.append(tag.rpartition("}")[2] if isinstance(tag, str) else "?")
        el = el.getparent()
    return "/".join(reversed(names))


def _split_tag(tag: str) -> tuple[str, str | None]:
    """lxml's '{uri}local' or 'local' -> (local, our namespace or None if undeclared)."""
    if tag[:1] == "{":
        uri, _, local = tag[1:].partition("}")
        return local, (ns_from_uri(uri) if uri else None)
    return tag, None


def _convert(root: etree._Element, limits: DecodeLimits) -> Element:
    """Map lxml's tree to ours: namespaces, leaf texts, limits, no mixed content."""
    names: dict[str, tuple[str, str | None]] = {}
    max_depth = limits.max_depth
    budget = [limits.max_elements]

    def conv(el, parent_ns, parent_tag, depth):
        tag = el.tag
        if not isinstance(tag, str):  # an entity reference left unexpanded
            raise XMLDecodeError("entity reference refused", path=_path(el))
        try:
            local, ns = names[tag]
        except KeyError:
            local, ns = names[tag] = _split_tag(tag)
        if ns is None or ns is NS_SYNCML:
            # Undeclared (or inherited SyncML) namespace: infer from the context.
            if parent_ns is NS_DEVINF or local == "DevInf":
                ns = NS_DEVINF
            elif parent_ns is NS_METINF:
                ns = NS_METINF
            elif parent_ns is NS_SYNCML and (
                    (parent_tag == "Meta" and local in METINF_NAMES)
                    or (parent_tag == "Data" and local == "Anchor")):
                ns = NS_METINF
            else:
                ns = NS_SYNCML
        budget[0] -= 1
        if budget[0] < 0:
            raise XMLDecodeError(f"more than {limits.max_elements} elements", path=_path(el))
        if len(el):
            if depth >= max_depth:
                raise XMLDecodeError(f"nesting deeper than {max_depth}", path=_path(el))
            text = el.text
            if text and text.strip(_WS):
                raise XMLDecodeError("text mixed with elements", path=_path(el))
            children = []
            for child in el:
                children.append(conv(child, ns, local, depth + 1))
                tail = child.tail
                if tail and tail.strip(_WS):
                    raise XMLDecodeError("text mixed with elements", path=_path(el))
            return Element(local, ns, children, None)
        return Element(local, ns, None, el.text or None)

    return conv(root, None, None, 1)


def decode(data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> Element:
    """Parse a SyncML message (root SyncML) or a bare DevInf document (root DevInf).

    Any well-formed root is returned; whether it is SyncML is the model's question
    (ModelDecodeError).

    Lenient where real peers differ: any case of the SyncML namespace, or none (then
    DevInf subtrees, MetInf names under <Meta> and <Data><Anchor> get their namespace by
    inference), DOCTYPEs with only an external id (never read), comments, PIs, attributes
    other than xmlns (ignored), ISO-8859-x / UTF-16 / BOM.  Strict where it matters: no
    internal DTD subset, no entity references, no text mixed with elements, ``limits``.
    Raises XMLDecodeError, and nothing else, for any bad bytes.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) > limits.max_bytes:
        raise XMLDecodeError(f"document larger than {limits.max_bytes} bytes",
                             error_status_hint=413)
    try:
        wide = _wide_encoding(data)
        if wide is not None:  # transcode so that the byte-level checks below apply
            data = data.decode(wide).encode("utf-8")
        _check_prolog(data)
        root = etree.fromstring(_keep_cr(data), _parser(wide is not None))
        _check_tree(root.getroottree())
        return _convert(root, limits)
    except XMLDecodeError:
        raise
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        raise XMLDecodeError(f"not well-formed XML: {exc.msg}",
                             offset=_offset(data, line, column)) from None
    except (etree.LxmlError, ValueError, UnicodeError, LookupError, RecursionError,
            MemoryError) as exc:
        raise XMLDecodeError(f"cannot parse XML: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _syncml_uri(root: Element) -> str:
    hdr = root.find("SyncHdr") if root.tag == "SyncML" else None
    verdtd = hdr.findtext("VerDTD") if hdr is not None else None
    return SYNCML_URI_BY_VERDTD.get((verdtd or "").strip(), DEFAULT_SYNCML_URI)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _text(el: Element) -> str:
    """A leaf's value as XML character data (escaped text or CDATA)."""
    value = el.text
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodeError(f"opaque data of <{el.tag}> is not UTF-8; XML cannot carry it")
    elif not isinstance(value, str):
        raise EncodeError(f"<{el.tag}> has a value of type {type(value).__name__}")
    if XML_BAD_CHAR.search(value):
        raise EncodeError(f"<{el.tag}> holds a character XML cannot carry")
    if "<" in value or "&" in value or "\r" in value or (el.tag == "Data" and len(value) > 64):
        # CDATA keeps CRs raw, as SyncEvolution/Synthesis send them (see decoding). Item
        # payloads always go in CDATA: SyncEvolution reads a long plain-text chunk of a
        # large object as empty (seen with base64 PHOTO chunks).
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return value.replace("]]>", "]]&gt;")


def encode(root: Element, *, declaration: bool = True, pretty: bool = False) -> bytes:
    """Write a tree as UTF-8 XML; raises EncodeError for a tree XML cannot carry."""
    syncml_uri = _syncml_uri(root)
    out: list[str] = [_DECLARATION] if declaration else []
    if declaration and pretty:
        out.append("\n")
    valid_tags: set[str] = set()

    def emit(el: Element, parent_ns: str | None, indent: str) -> None:
        tag = el.tag
        if tag not in valid_tags:
            if not isinstance(tag, str) or not XML_NAME.fullmatch(tag):
                raise EncodeError(f"{tag!r} is not an XML element name")
            valid_tags.add(tag)
        ns = el.ns
        if ns == parent_ns:
            start = "<" + tag
        elif ns is NS_SYNCML or ns == NS_SYNCML:
            start = f'<{tag} xmlns="{syncml_uri}"'
        else:
            uri = NS_URI.get(ns, ns)
            if not isinstance(uri, str) or not uri or URI_BAD_CHAR.search(uri):
                raise EncodeError(f"<{tag}> has an unusable namespace {ns!r}")
            start = f'<{tag} xmlns="{_attr(uri)}"'
        children = el.children
        if children:
            if el.text is not None:
                raise EncodeError(f"<{tag}> has both children and a value")
            out.append(start + ">")
            if pretty:
                inner = indent + "  "
                for child in children:
                    out.append(inner)
                    emit(child, ns, inner)
                out.append(indent + "</" + tag + ">")
            else:
                for child in children:
                    emit(child, ns, indent)
                out.append("</" + tag + ">")
        elif el.text is None:
            out.append(start + "/>")
        else:
            out.append(start + ">" + _text(el) + "</" + tag + ">")

    emit(root, None, "\n")
    if pretty:
        out.append("\n")
    return "".join(out).encode("utf-8")
