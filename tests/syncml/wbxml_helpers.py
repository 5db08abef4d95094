"""Helpers for the WBXML codec tests: fixture lists, a byte builder, wbxml2xml, tree comparison."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from gateway.syncml.tree import NS_DEVINF, NS_METINF, NS_SYNCML, Element
from tests.syncml.captures import FIXTURES, captures, ident

SYNCEVO = FIXTURES / "syncevolution"
PUBLIC = FIXTURES / "public-traces"
WBXML2XML = "/usr/bin/wbxml2xml"

SYNCEVO_CAPTURES = (captures("first-message/*.wbxml", "syncevolution")
                    + captures("sessions/*/*.wbxml", "syncevolution"))
PUBLIC_CAPTURES = captures("**/*.wbxml", "public-traces")
ALL_CAPTURES = SYNCEVO_CAPTURES + PUBLIC_CAPTURES


def capture_id(path: Path) -> str:
    return ident(path)


def mb(value: int) -> bytes:
    """mb_u_int32 encoding, written independently of the codec."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def header(public_id: int = 0x1201, charset: int | None = 0x6A, strtbl: bytes = b"",
           version: int = 0x02, fpi_index: int | None = None) -> bytes:
    out = bytes([version])
    out += b"\x00" + mb(fpi_index) if fpi_index is not None else mb(public_id)
    if charset is not None:
        out += mb(charset)
    return out + mb(len(strtbl)) + strtbl


def str_i(text: str, codec: str = "utf-8") -> bytes:
    return b"\x03" + text.encode(codec) + b"\x00"


def opaque(data: bytes) -> bytes:
    return b"\xc3" + mb(len(data)) + data


_XML_NS = {"syncml:metinf": NS_METINF, "syncml:devinf": NS_DEVINF}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          remove_comments=True, remove_pis=True, huge_tree=False)


def parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, _PARSER)


def _xml_ns(el: etree._Element) -> str:
    uri = etree.QName(el).namespace
    if uri is None or uri.lower().startswith("syncml:syncml"):
        return NS_SYNCML
    return _XML_NS.get(uri.lower(), uri)


def _norm(text) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    # an XML parser turns CRLF into LF, so compare with line ends normalised
    return text.replace("\r\n", "\n").replace("\r", "\n")


def tree_matches_xml(el: Element, xel: etree._Element, path: str = "") -> list[str]:
    """Differences between our tree and libwbxml's XML rendering of the same document.

    libwbxml prints a nested WBXML DevInf inline and rewrites the Meta Type
    ``application/vnd.syncml-devinf+wbxml`` to ``...+xml``; OPAQUE vCards are CDATA.
    """
    path = f"{path}/{el.tag}"
    problems = []
    if el.tag != etree.QName(xel).localname:
        return [f"{path}: tag {etree.QName(xel).localname} in XML"]
    if el.ns != _xml_ns(xel):
        problems.append(f"{path}: ns {el.ns} vs {_xml_ns(xel)}")
    xkids = list(xel)
    if el.children or xkids:
        if (xel.text or "").strip():
            problems.append(f"{path}: XML has text {xel.text!r} beside children")
        if len(el.children) != len(xkids):
            return problems + [f"{path}: {len(el.children)} children vs {len(xkids)}"]
        for child, xchild in zip(el.children, xkids):
            problems += tree_matches_xml(child, xchild, path)
        return problems
    ours, theirs = _norm(el.text), _norm(xel.text)
    if ours != theirs and not (ours == "application/vnd.syncml-devinf+wbxml"
                               and theirs == "application/vnd.syncml-devinf+xml"):
        problems.append(f"{path}: text {ours!r} vs {theirs!r}")
    return problems


def run_wbxml2xml(data: bytes) -> tuple[int, bytes]:
    """Decode with libwbxml's wbxml2xml; return (exit code, XML output)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.wbxml")
        dst = os.path.join(tmp, "out.xml")
        with open(src, "wb") as f:
            f.write(data)
        proc = subprocess.run([WBXML2XML, "-o", dst, src], capture_output=True, timeout=30)
        out = b""
        if os.path.exists(dst):
            with open(dst, "rb") as f:
                out = f.read()
        return proc.returncode, out
