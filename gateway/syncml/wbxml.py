"""WBXML codec for SyncML, MetInf and DevInf documents (WAP-192-WBXML; protocol.md §2).

``decode``/``decode_document`` read WBXML 1.0-1.3 into the neutral tree of
:mod:`gateway.syncml.tree`; ``encode`` writes a tree as WBXML (1.2 by default; UTF-8, STR_I
for text, OPAQUE for bytes, never STR_T). A ``Data`` element holding a DevInf element travels
as OPAQUE carrying a complete nested DevInf WBXML document, in both directions.

Decoding choices: string parts of one element are concatenated (bytes if any part is
opaque or not valid in the declared charset); whitespace beside child elements is dropped,
other mixed content is an error; attributes and processing instructions are skipped;
extension tokens (EXT_*) are rejected, SyncML defines none; LITERAL elements keep their name
and get the namespace of the current code page; DevInf 1.0/1.1 documents name token 0x1C
``Size`` (1.2: ``MaxSize``). A broken OPAQUE DevInf stays bytes, but a limit hit inside it
fails the message; ``max_nested`` is how deep documents may nest (deeper ones stay bytes).

Encoding: an element whose (namespace, tag) is not in the document's tables is written as
LITERAL, with a string table holding only those names (its namespace is not kept).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.syncml import wbxml_tables as T
from gateway.syncml.errors import EncodeError, WBXMLDecodeError
from gateway.syncml.tree import DEFAULT_LIMITS, NS_DEVINF, NS_SYNCML, DecodeLimits, Element

__all__ = ["WBXMLDocument", "decode", "decode_document", "encode"]


@dataclass(frozen=True, kw_only=True)
class WBXMLDocument:
    """A decoded WBXML document: its header fields, root element and end offset."""

    version: int
    public_id: int | None   # None when the public id is a textual FPI
    fpi: str | None
    charset: int            # IANA MIBenum; 0 = not given (WBXML 1.0), read as UTF-8
    root: Element
    end: int                # offset just after the document (trailing bytes are ignored)


_SYNCML_PAGES, _DEVINF_PAGES, _DEVINF11_PAGES = T.SYNCML_PAGES, T.DEVINF_PAGES, T.DEVINF11_PAGES
_DEVINF_IDS, _DEVINF_OLD_IDS, _SYNCML_IDS = T.DEVINF_IDS, T.DEVINF_OLD_IDS, T.SYNCML_DOC_IDS
_WHITESPACE = " \t\r\n"


class _LimitExceeded(WBXMLDecodeError):
    """A decode limit was hit; unlike other errors it also ends a nested DevInf decode."""


def _fail(reason, offset, hint=None):
    raise WBXMLDecodeError(reason, offset=offset, error_status_hint=hint)


def _over_limit(reason, offset, hint=None):
    raise _LimitExceeded(reason, offset=offset, error_status_hint=hint)


def _mb(data, pos, n):
    """Read an mb_u_int32 at ``pos``; return (value, new position)."""
    value = 0
    for _ in range(5):
        if pos >= n:
            _fail("truncated mb_u_int32", n)
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            if value > 0xFFFFFFFF:
                _fail("mb_u_int32 exceeds 32 bits", pos - 1)
            return value, pos
    _fail("mb_u_int32 longer than 5 bytes", pos - 1)


def _find_nul(data, pos, end, width):
    if width == 1:
        return data.find(b"\0", pos, end)
    nul = b"\0" * width
    j = data.find(nul, pos, end)
    while j >= 0 and (j - pos) % width:
        j = data.find(nul, j + 1, end)
    return j


def _table_bytes(strtbl, index, width, offset):
    if index >= len(strtbl):
        _fail("string table reference out of range", offset)
    j = _find_nul(strtbl, index, len(strtbl), width)
    return strtbl[index:] if j < 0 else strtbl[index:j]


def _skip_until_end(data, pos, n, width):
    """Skip an attribute list or a PI body (tokens up to and including END)."""
    while True:
        if pos >= n:
            _fail("truncated attribute list", n)
        b = data[pos]
        pos += 1
        if b == T.END:
            return pos
        if b in (T.STR_I, T.EXT_I_0, T.EXT_I_1, T.EXT_I_2):
            j = _find_nul(data, pos, n, width)
            if j < 0:
                _fail("unterminated inline string", n)
            pos = j + width
        elif b in (T.STR_T, T.ENTITY, T.LITERAL, T.EXT_T_0, T.EXT_T_1, T.EXT_T_2):
            _, pos = _mb(data, pos, n)
        elif b == T.OPAQUE:
            length, pos = _mb(data, pos, n)
            if length > n - pos:
                _fail("OPAQUE length beyond end of data", pos)
            pos += length
        elif b == T.SWITCH_PAGE:
            pos += 1
        # any other byte is a single-byte attribute start/value token or EXT_0..2


def _header(data, n, limits):
    if n > limits.max_bytes:
        _over_limit(f"message larger than {limits.max_bytes} bytes", limits.max_bytes, 413)
    if n == 0:
        _fail("empty document", 0)
    version = data[0]
    if version not in T.VERSIONS:
        _fail(f"unsupported WBXML version 0x{version:02x}", 0)
    public_id, pos = _mb(data, 1, n)
    fpi_index = None
    if public_id == 0:
        fpi_index, pos = _mb(data, pos, n)
        public_id = None
    charset = 0
    if version != T.VERSION_10:
        charset, pos = _mb(data, pos, n)
    codec = T.CHARSETS.get(charset)
    if codec is None:
        _fail(f"unsupported charset MIBenum {charset}", pos - 1, 415)
    width = T.CHARSET_NUL_WIDTH.get(charset, 1)
    tbl_len, pos = _mb(data, pos, n)
    if tbl_len > n - pos:
        _fail("string table beyond end of data", pos)
    strtbl = data[pos:pos + tbl_len]
    pos += tbl_len
    fpi = None
    if fpi_index is not None:
        raw = _table_bytes(strtbl, fpi_index, width, pos)
        fpi = _text(raw, codec)
        fpi = fpi if type(fpi) is str else raw.decode("latin-1")
    return version, public_id, fpi, charset, codec, width, strtbl, pos


def _text(raw, codec):
    """Decode a string in the document charset; keep the bytes if it is not valid there."""
    if codec == "utf-16" and raw[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-be"   # RFC 2781: no BOM means big-endian
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return raw


def _pages_for(public_id, fpi, data, pos):
    low = fpi.lower() if fpi else ""
    if public_id in _DEVINF_IDS or "devinf" in low:
        old = public_id in _DEVINF_OLD_IDS or "devinf 1.0" in low or "devinf 1.1" in low
        return (_DEVINF11_PAGES if old else _DEVINF_PAGES), False
    if public_id in _SYNCML_IDS or "syncml" in low:
        return _SYNCML_PAGES, True
    # Unknown public id: a DevInf root tag first means a bare DevInf document.
    if pos < len(data) and data[pos] & T.TAG_MASK == 0x0A:
        return _DEVINF_PAGES, False
    return _SYNCML_PAGES, True


def _join(parts):
    if all(type(p) is str for p in parts):
        return "".join(parts)
    return b"".join(p if type(p) is bytes else p.encode("utf-8") for p in parts)


def _looks_like_devinf(blob):
    """True if ``blob`` starts with a WBXML header naming a DevInf public id."""
    n = len(blob)
    if n < 4 or blob[0] not in T.VERSIONS:
        return False
    try:
        pid, pos = _mb(blob, 1, n)
        if pid != 0:
            return pid in _DEVINF_IDS
        index, pos = _mb(blob, pos, n)
        if blob[0] != T.VERSION_10:
            _, pos = _mb(blob, pos, n)
        tbl_len, pos = _mb(blob, pos, n)
    except WBXMLDecodeError:
        return False
    if index >= tbl_len or tbl_len > n - pos:
        return False
    return b"devinf" in blob[pos + index:pos + tbl_len].lower()


def _decode(data, limits, depth0, count, nest):
    """Decode one document from ``data``; return (WBXMLDocument, element count)."""
    n = len(data)
    version, public_id, fpi, charset, codec, width, strtbl, pos = _header(data, n, limits)
    pages, is_syncml = _pages_for(public_id, fpi, data, pos)
    names, ns = pages[0]
    utf8 = codec == "utf-8" and width == 1
    max_depth = limits.max_depth - depth0
    max_elements = limits.max_elements
    table_cache = {}
    stack = []
    push = stack.append
    pop = stack.pop
    root = None
    find = data.find
    while True:
        if pos >= n:
            _fail("truncated document", n)
        b = data[pos]
        pos += 1
        tok = b & 0x3F
        if tok >= 5:                                   # a tag of the current page
            name = names[tok]
            if name is None:
                _fail(f"unknown tag token 0x{tok:02x}", pos - 1)
            el = Element(name, ns)
        elif b == T.END:
            if not stack:
                _fail("END outside an element", pos - 1)
            el, parts = pop()
            if parts is not None:
                value = parts[0] if len(parts) == 1 else _join(parts)
                if el.children:
                    if type(value) is not str or value.strip(_WHITESPACE):
                        _fail(f"mixed content in <{el.tag}>", pos - 1)
                    value = None
                elif (type(value) is bytes and is_syncml and el.tag == "Data"
                      and el.ns is NS_SYNCML and nest < limits.max_nested
                      and _looks_like_devinf(value)):
                    value, count = _nested(value, limits, depth0 + len(stack) + 1, count, nest, el)
                el.text = value
            if not stack:
                break
            continue
        elif b == T.STR_I or b == T.OPAQUE or b == T.STR_T or b == T.ENTITY:
            if not stack:
                _fail("character data outside the root element", pos - 1)
            if b == T.STR_I:
                j = find(b"\0", pos) if width == 1 else _find_nul(data, pos, n, width)
                if j < 0:
                    _fail("unterminated inline string", n)
                raw = data[pos:j]
                pos = j + width
                if utf8:
                    try:
                        value = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        value = raw
                else:
                    value = _text(raw, codec)
            elif b == T.OPAQUE:
                length = data[pos] if pos < n else 0x80
                if length < 0x80:
                    pos += 1
                else:
                    length, pos = _mb(data, pos, n)
                if length > n - pos:
                    _fail("OPAQUE length beyond end of data", pos)
                value = data[pos:pos + length]
                pos += length
            elif b == T.STR_T:
                index, pos = _mb(data, pos, n)
                value = table_cache.get(index)
                if value is None:
                    value = _text(_table_bytes(strtbl, index, width, pos), codec)
                    table_cache[index] = value
            else:
                code, pos = _mb(data, pos, n)
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    _fail(f"invalid character entity {code}", pos - 1)
                value = chr(code)
            frame = stack[-1]
            if frame[1] is None:
                frame[1] = [value]
            else:
                frame[1].append(value)
            continue
        elif b == T.SWITCH_PAGE:
            if pos >= n:
                _fail("truncated SWITCH_PAGE", n)
            page = pages.get(data[pos])
            if page is None:
                _fail(f"unknown code page {data[pos]}", pos)
            names, ns = page
            pos += 1
            continue
        elif tok == T.LITERAL:
            index, pos = _mb(data, pos, n)
            raw = _table_bytes(strtbl, index, width, pos)
            name = _text(raw, codec)
            if type(name) is not str or not name:
                _fail("LITERAL tag name is not a valid string", pos - 1)
            el = Element(name, ns)
        elif b == T.PI:
            pos = _skip_until_end(data, pos, n, width)
            continue
        else:
            _fail(f"unsupported extension token 0x{b:02x}", pos - 1)
        # a new element (tag token or LITERAL)
        count += 1
        if count > max_elements:
            _over_limit(f"more than {max_elements} elements", pos - 1)
        if b & T.TAG_ATTRIBUTES:
            pos = _skip_until_end(data, pos, n, width)
        if stack:
            stack[-1][0].children.append(el)
        else:
            root = el
        if b & T.TAG_CONTENT:
            if len(stack) >= max_depth:
                _over_limit(f"elements nested deeper than {limits.max_depth}", pos - 1)
            push([el, None])
        elif not stack:
            break
    doc = WBXMLDocument(version=version, public_id=public_id, fpi=fpi, charset=charset,
                        root=root, end=pos)
    return doc, count


def _nested(blob, limits, depth0, count, nest, data_el):
    """Decode an OPAQUE DevInf document; on failure the bytes stay as they are."""
    try:
        doc, new_count = _decode(blob, limits, depth0, count, nest + 1)
    except _LimitExceeded:
        raise
    except WBXMLDecodeError:
        return blob, count
    if doc.root.ns is not NS_DEVINF or blob[doc.end:].strip(b"\0 \t\r\n"):
        return blob, count
    data_el.children.append(doc.root)
    return None, new_count


def decode_document(data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> WBXMLDocument:
    """Decode one WBXML document; bytes after its root element are ignored."""
    data = bytes(data)
    try:
        return _decode(data, limits, 0, 0, 0)[0]
    except WBXMLDecodeError:
        raise
    except (IndexError, KeyError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
        raise WBXMLDecodeError(f"malformed WBXML ({type(exc).__name__})") from exc


def decode(data: bytes, *, limits: DecodeLimits = DEFAULT_LIMITS) -> Element:
    """Decode a WBXML SyncML message (or bare DevInf document) into its root element."""
    return decode_document(data, limits=limits).root


# -- encoder --------------------------------------------------------------------------

def encode_mb_u_int32(value: int) -> bytes:
    """A multi-byte integer (WBXML §5.1; also WSP's uintvar): 7 bits an octet, big-endian,
    the high bit set on all but the last octet."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


_mb_bytes = encode_mb_u_int32
_SYNCML_TOKENS, _DEVINF_TOKENS = T.SYNCML_TOKENS, T.DEVINF_TOKENS
_SWITCH = {p: bytes((T.SWITCH_PAGE, p)) for p in (0, 1)}
_OPAQUE_B = bytes((T.OPAQUE,))
_STR_I_B = bytes((T.STR_I,))
_END_B = bytes((T.END,))


def _public_id(root):
    if root.ns == NS_DEVINF:
        ver = root.findtext("VerDTD")
        return T.DEVINF_PUBLIC_IDS.get((ver or "").strip(), T.DEVINF_PUBLIC_IDS["1.2"])
    hdr = root.find("SyncHdr")
    ver = hdr.findtext("VerDTD") if hdr is not None else None
    return T.SYNCML_PUBLIC_IDS.get((ver or "").strip(), T.SYNCML_PUBLIC_IDS["1.2"])


def _encode_doc(root, version):
    is_devinf = root.ns == NS_DEVINF
    tokens = _DEVINF_TOKENS if is_devinf else _SYNCML_TOKENS
    out = []
    append = out.append
    literals = {}
    page = 0

    def emit(el):
        nonlocal page
        children = el.children
        text = el.text
        entry = tokens.get((el.ns, el.tag))
        if entry is None:
            if not isinstance(el.tag, str) or not el.tag or "\0" in el.tag:
                raise EncodeError(f"cannot encode tag {el.tag!r}")
            index = literals.get(el.tag)
            if index is None:
                index = literals[el.tag] = sum(len(k.encode("utf-8")) + 1 for k in literals)
            if text is None and not children:
                append(bytes((T.LITERAL,)) + _mb_bytes(index))
                return
            append(bytes((T.LITERAL_C,)) + _mb_bytes(index))
        else:
            if entry[0] != page:
                page = entry[0]
                append(_SWITCH[page])
            if text is None and not children:
                append(entry[1])
                return
            append(entry[2])
        if text is not None:
            if children:
                raise EncodeError(f"<{el.tag}> has both children and a value")
            if type(text) is str:
                if "\0" in text:
                    raise EncodeError(f"NUL character in <{el.tag}>")
                append(_STR_I_B)
                append(text.encode("utf-8"))
                append(b"\0")
            elif isinstance(text, (bytes, bytearray)):
                append(_OPAQUE_B + _mb_bytes(len(text)))
                append(bytes(text))
            else:
                raise EncodeError(f"<{el.tag}> value of type {type(text).__name__}")
        elif (not is_devinf and len(children) == 1 and el.tag == "Data" and el.ns == NS_SYNCML
              and children[0].ns == NS_DEVINF and children[0].tag == "DevInf"):
            blob = _encode_doc(children[0], version)
            append(_OPAQUE_B + _mb_bytes(len(blob)))
            append(blob)
        else:
            for child in children:
                emit(child)
        append(_END_B)

    try:
        emit(root)
    except RecursionError as exc:
        raise EncodeError("tree nested too deeply to encode") from exc
    except UnicodeEncodeError as exc:
        raise EncodeError(f"text not encodable as UTF-8: {exc.reason}") from exc
    strtbl = b"".join(name.encode("utf-8") + b"\0" for name in literals)
    head = [bytes((version,)), _mb_bytes(_public_id(root))]
    if version != T.VERSION_10:
        head.append(_mb_bytes(T.CHARSET_UTF8))
    head.append(_mb_bytes(len(strtbl)))
    return b"".join(head) + strtbl + b"".join(out)


def encode(root: Element, *, version: int = 0x02) -> bytes:
    """Encode a SyncML (or DevInf) tree as WBXML; the public id follows its VerDTD."""
    if version not in T.VERSIONS:
        raise EncodeError(f"unsupported WBXML version {version!r}")
    return _encode_doc(root, version)
