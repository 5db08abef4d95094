"""``omads-trace``: decode a captured SyncML message to indented XML, or encode XML to WBXML.

    omads-trace capture.wbxml              # indented XML on stdout
    omads-trace - < capture.xml            # from stdin
    omads-trace --to-wbxml msg.xml -o msg.wbxml
    omads-trace --model capture.wbxml      # also check it maps to the message model

Exit status 0 on success, 1 with one line on stderr for bad input, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import base64
import sys

from gateway.syncml import wbxml, xmlcodec
from gateway.syncml.codec import WBXML, XML, media_type, sniff
from gateway.syncml.devinf import devinf_from_tree
from gateway.syncml.errors import DecodeError, EncodeError
from gateway.syncml.model import message_from_tree
from gateway.syncml.tree import DecodeLimits, Element


def pretty(data: bytes, content_type: str, *,
           limits: DecodeLimits | None = None) -> bytes:
    """A captured message (XML or WBXML, by its media type) as indented XML; raises a
    DecodeError for bad input. What ``omads-trace`` and ``omads-sync --verbose`` print."""
    kind = media_type(content_type) if content_type else sniff(data)
    root = (wbxml.decode(data, limits=limits or DecodeLimits()) if kind == WBXML
            else xmlcodec.decode(data, limits=limits or DecodeLimits()))
    return xmlcodec.encode(_printable(root), pretty=True)


def _printable(el: Element) -> Element:
    """A copy whose opaque leaves are text: UTF-8 as is, anything else as base64."""
    text = el.text
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            text = "base64:" + base64.b64encode(text).decode("ascii")
    return Element(el.tag, el.ns, [_printable(c) for c in el.children], text)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _write(data: bytes, out: str | None) -> None:
    if out is None or out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(out, "wb") as f:
            f.write(data)


def run(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="omads-trace", description=__doc__.splitlines()[0])
    p.add_argument("input", help="captured message file, or - for stdin")
    p.add_argument("-o", "--output", help="write here instead of stdout")
    p.add_argument("--type", choices=("auto", "xml", "wbxml"), default="auto",
                   help="encoding of the input (default: guess from the bytes)")
    p.add_argument("--to-wbxml", action="store_true", help="encode the input (XML) as WBXML")
    p.add_argument("--model", action="store_true",
                   help="also map the message to the SyncML model and report problems")
    p.add_argument("--max-size", type=int, default=64 * 1024 * 1024, help="input size limit")
    args = p.parse_args(argv)
    try:
        data = _read(args.input)
    except OSError as e:
        print(f"omads-trace: {args.input}: {e.strerror or e}", file=sys.stderr)
        return 1
    limits = DecodeLimits(max_bytes=args.max_size)
    kind = {"xml": XML, "wbxml": WBXML}.get(args.type) or sniff(data)
    try:
        root = wbxml.decode(data, limits=limits) if kind == WBXML else \
            xmlcodec.decode(data, limits=limits)
        if args.model:
            if root.tag == "DevInf":
                devinf_from_tree(root)
            else:
                message_from_tree(root)
        if args.to_wbxml:
            out = wbxml.encode(root)
        else:
            out = xmlcodec.encode(_printable(root), pretty=True)
    except DecodeError as e:
        print(f"omads-trace: {args.input}: {e}", file=sys.stderr)
        return 1
    except EncodeError as e:
        print(f"omads-trace: {args.input}: cannot encode: {e}", file=sys.stderr)
        return 1
    _write(out, args.output)
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
