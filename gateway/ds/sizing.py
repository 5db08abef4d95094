"""Encoded size of one command, computed from its element tree without encoding it.

The walk follows what ``syncml/xmlcodec.encode`` and ``syncml/wbxml.encode`` write for an
element (tags, namespace declarations, CDATA or escaped text; tag tokens, code-page
switches, inline strings, opaque data, END), so for the commands the engine sends the
figure is the exact number of bytes the command adds to a message, with its CmdID counted
as four digits (numbering happens after planning). Trees the walk does not model (tags
without a token, nested DevInf documents, other namespaces) raise ``Unmeasurable``; the
packer then measures by encoding. The planned message is encoded once, from the same
trees (renumbered), to verify it; those bytes are the reply.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.syncml import codec
from gateway.syncml.fields import write_node
from gateway.syncml.model import (
    COMMAND_TAGS, Message, Sync, SyncBody, SyncHdr, UnknownCommand, message_to_tree,
)
from gateway.syncml.tree import NS_SYNCML, Element
from gateway.syncml.wbxml_tables import SYNCML_TOKENS
from gateway.syncml.xmlnames import NS_URI, SYNCML_URI_BY_VERDTD

CMD_ID_DIGITS = 4                       # as the old placeholder CmdID "9999"
_SYNCML_URI_LEN = max(len(u) for u in SYNCML_URI_BY_VERDTD.values())
_XMLNS = len(' xmlns=""')
_CDATA = len("<![CDATA[") + len("]]>")
_CDATA_SPLIT = len("]]]]><![CDATA[>") - len("]]>")
_GT_ESCAPE = len("]]&gt;") - len("]]>")


class Unmeasurable(Exception):
    """The tree holds something the walk does not model."""


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise Unmeasurable("text not encodable as UTF-8") from None


def _mb_len(value: int) -> int:
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


def wbxml_size(root: Element) -> int:
    """Bytes ``root`` adds to a WBXML SyncML body, entered and left on code page 0."""
    size = 0
    page = 0
    tokens = SYNCML_TOKENS
    stack = [root]
    pop, push = stack.pop, stack.append
    while stack:
        el = pop()
        if el is None:                  # the END of an element with content
            size += 1
            continue
        entry = tokens.get((el.ns, el.tag))
        if entry is None:
            raise Unmeasurable(f"no token for {el.tag!r}")
        if entry[0] != page:
            page = entry[0]
            size += 2
        size += 1
        text, children = el.text, el.children
        if text is None and not children:
            continue
        push(None)
        if text is not None:
            if el.tag == "CmdID" and el.ns == NS_SYNCML:
                size += 2 + CMD_ID_DIGITS
            elif type(text) is str:
                size += 2 + _utf8_len(text)
            elif isinstance(text, (bytes, bytearray)):
                size += 1 + _mb_len(len(text)) + len(text)
            else:
                raise Unmeasurable(f"value of type {type(text).__name__}")
        else:
            stack.extend(reversed(children))
    return size + (2 if page else 0)


def _xml_text(el: Element) -> int:
    value = el.text
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise Unmeasurable("opaque data that is not UTF-8") from None
    elif type(value) is not str:
        raise Unmeasurable(f"value of type {type(value).__name__}")
    n = _utf8_len(value)
    splits = value.count("]]>") if "]]>" in value else 0
    if "<" in value or "&" in value or "\r" in value or (el.tag == "Data" and len(value) > 64):
        return _CDATA + n + _CDATA_SPLIT * splits
    return n + _GT_ESCAPE * splits


def xml_size(root: Element, parent_ns: str = NS_SYNCML) -> int:
    """Bytes ``root`` adds to an XML SyncML body whose namespace is ``parent_ns``."""
    size = 0
    stack = [(root, parent_ns)]
    pop = stack.pop
    while stack:
        el, outer = pop()
        tag, ns = el.tag, el.ns
        size += 1 + len(tag)            # "<tag"
        if ns != outer:
            if ns == NS_SYNCML:
                size += _XMLNS + _SYNCML_URI_LEN
            else:
                uri = NS_URI.get(ns)
                if uri is None:
                    raise Unmeasurable(f"namespace {ns!r}")
                size += _XMLNS + len(uri)
        children, text = el.children, el.text
        if children:
            size += 1 + 3 + len(tag)    # ">" ... "</tag>"
            stack.extend((child, ns) for child in reversed(children))
        elif text is None:
            size += 2                   # "/>"
        else:
            size += 1 + 3 + len(tag)
            if tag == "CmdID" and ns == NS_SYNCML:
                size += CMD_ID_DIGITS
            else:
                size += _xml_text(el)
    return size


class CommandTrees:
    """For one message: each command's element tree, built once, measured, and reused
    (renumbered) when the planned message is encoded."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._walk = wbxml_size if codec.media_type(encoding) == codec.WBXML else xml_size
        self._trees: dict[int, tuple[object, Element]] = {}   # id(cmd) -> (cmd, tree)

    def tree(self, cmd) -> Element:
        got = self._trees.get(id(cmd))
        if got is not None and got[0] is cmd:
            return got[1]
        if isinstance(cmd, UnknownCommand):
            raise Unmeasurable("unknown command")
        if isinstance(cmd, Sync) and cmd.commands:
            if cmd.extra:
                raise Unmeasurable("Sync with unknown elements")
            shell = write_node(replace(cmd, commands=()), "Sync")
            tree = Element("Sync", shell.ns, shell.children + [self.tree(c) for c in cmd.commands])
        else:
            tree = write_node(cmd, COMMAND_TAGS[type(cmd)])
        self._trees[id(cmd)] = (cmd, tree)
        return tree

    def size(self, cmd) -> int:
        """Bytes ``cmd`` adds to a message (CmdIDs as four digits); Unmeasurable if the
        walk does not model it."""
        return self._walk(self.tree(cmd))

    def encode(self, header: SyncHdr, commands: list, final: bool) -> bytes:
        """The message of ``commands`` numbered 1, 2, ... in document order (Sync children
        included): the bytes ``codec.encode_message`` gives for ``packaging.number``'s
        commands."""
        root = message_to_tree(Message(header=header, body=SyncBody(final=final)))
        body = root.children[-1]
        trees: list[Element] = []
        n = 0
        for cmd in commands:
            n += 1
            if isinstance(cmd, UnknownCommand):
                trees.append(cmd.element)
            elif isinstance(cmd, Sync) and cmd.commands:
                tree = self.tree(cmd)
                kids = tree.children
                own = len(kids) - len(cmd.commands)
                numbered = _numbered(Element(tree.tag, tree.ns, kids[:own]), n).children
                for child in kids[own:]:
                    n += 1
                    numbered.append(_numbered(child, n))
                trees.append(Element(tree.tag, tree.ns, numbered))
            else:
                trees.append(_numbered(self.tree(cmd), n))
        body.children[0:0] = trees
        return codec.encode_tree(root, self.encoding)


def _numbered(tree: Element, n: int) -> Element:
    """A copy of a command's tree with CmdID ``n`` (the rest shared)."""
    kids = tree.children
    rest = kids[1:] if kids and kids[0].tag == "CmdID" else kids
    return Element(tree.tag, tree.ns, [Element("CmdID", NS_SYNCML, None, str(n)), *rest])
