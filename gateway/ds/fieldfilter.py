"""Field-level filters (DS 1.2 ``Filter/Field``): the properties a client wants.

The Field's Item (Meta Type a DevInf type) lists DevInf ``Property`` elements; their
``PropName`` values are the properties the client wants in items sent to it (e.g.
everything but PHOTO). Items we send keep only those (and VERSION; a VCALENDAR keeps
its own properties and VTIMEZONE, a VALARM goes along when "VALARM" is listed). A
Replace from such a client lacks the properties it never saw: ``restore_hidden`` puts
the server's back before the item is stored, so the filter never deletes data. Slow
sync pairs such a client's items with ours by ``view_print``, the fingerprint of the
filtered view (``FilteredPrints`` indexes our items by it), read from the content lines
as ``gateway.content.vformat`` unfolds them (a quoted-printable value broken over lines
is one line).
"""

from __future__ import annotations

import re

from gateway.content.convert import convert
from gateway.content.errors import ContentError
from gateway.content.model import Component
from gateway.content.vformat import parse, serialize, unfold
from gateway.ds import contentops
from gateway.ds.filters import NOT_SUPPORTED, FilterError
from gateway.syncml.tree import Element

ALWAYS = frozenset({"VERSION"})
ITEM_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})
KEPT_COMPONENTS = frozenset({"VTIMEZONE"})
_NAME = re.compile(r"[A-Za-z0-9-]+")
_HEAD = re.compile(r"[^;:]*")
_PROPNAME = re.compile(r"<PropName>\s*([^<\s]+)\s*</PropName>", re.IGNORECASE)


def field_names(data) -> tuple[str, ...]:
    """The property names a Field Item's Data lists: DevInf Property elements (one, or
    inside a wrapper such as CTCap), their XML as text, or a comma/space list."""
    names: list[str] = []
    if isinstance(data, Element):
        props = [data] if data.tag == "Property" else data.findall("Property")
        for prop in props:
            name = prop.findtext("PropName")
            if name:
                names.append(name.strip())
    elif isinstance(data, (str, bytes)):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        found = _PROPNAME.findall(text)
        names = found if found else re.split(r"[\s,;]+", text.strip())
    names = [n.upper() for n in names if n]
    if not names or not all(_NAME.fullmatch(n) for n in names):
        raise FilterError("field filter: no property names found", NOT_SUPPORTED)
    return tuple(dict.fromkeys(names))


def _keep(comp: Component, allowed: frozenset[str]) -> Component:
    props = tuple(p for p in comp.properties if p.name in allowed or p.name in ALWAYS)
    subs = tuple(s for s in comp.components if s.name in KEPT_COMPONENTS or s.name in allowed)
    return comp.with_(properties=props, components=subs)


def strip(data: bytes, allowed: frozenset[str]) -> bytes:
    """``data`` with only the allowed properties (unparsable content: unchanged)."""
    try:
        comp = parse(data)
    except (ContentError, ValueError, UnicodeError):
        return data
    if comp.name == "VCALENDAR":
        subs = tuple(_keep(s, allowed) if s.name in ITEM_COMPONENTS else s
                     for s in comp.components)
        out = comp.with_(components=subs)
    elif comp.name == "VNOTE" or comp.name == "VCARD":
        out = _keep(comp, allowed)
    else:
        return data
    return serialize(out)


def _hidden_into(client: Component, server: Component, allowed: frozenset[str]) -> Component:
    hidden = [p for p in server.properties if p.name not in allowed and p.name not in ALWAYS]
    subs = [s for s in server.components
            if s.name not in allowed and s.name not in KEPT_COMPONENTS]
    if not hidden and not subs:
        return client
    return client.with_(properties=client.properties + tuple(hidden),
                        components=client.components + tuple(subs))


def restore_hidden(client: bytes, client_ct: str, server: bytes, server_ct: str,
                   allowed: frozenset[str]) -> bytes:
    """The client's item plus the server's properties the filter hid from it."""
    try:
        theirs = parse(client)
        ours = parse(convert(server, server_ct, client_ct) if server_ct and client_ct
                     else server)
    except (ContentError, ValueError, UnicodeError):
        return client
    if theirs.name != ours.name:
        return client
    if theirs.name == "VCALENDAR":
        mine = [s for s in ours.components if s.name in ITEM_COMPONENTS]
        subs, used = [], False
        for sub in theirs.components:
            if sub.name in ITEM_COMPONENTS and not used and mine:
                sub, used = _hidden_into(sub, mine[0], allowed), True
            subs.append(sub)
        merged = theirs.with_(components=tuple(subs))
    else:
        merged = _hidden_into(theirs, ours, allowed)
    if merged is theirs:
        return client
    return serialize(merged)


def view_print(data: bytes, content_type: str, client_ct: str,
               allowed: frozenset[str]) -> str:
    """The pairing fingerprint (``contentops.fingerprint``) of an item as a client with
    this field filter holds it: converted to its type, then only the lines ``strip``
    keeps (picked line by line, so nothing is parsed or serialized)."""
    if content_type and client_ct and content_type.lower() != client_ct.lower():
        data = contentops.convert(data, content_type, client_ct) or data
    kept, stack = [], []          # stack: (component name, its lines kept?)
    for line in (raw.decode("utf-8", "replace") for raw in unfold(data)):
        head = _HEAD.match(line).group(0).rpartition(".")[2].strip().upper()
        if head == "BEGIN":
            value = line.partition(":")[2].strip().upper()
            stack.append((value, _component_kept(stack, value, allowed)))
            keep = stack[-1][1]
        elif head == "END":
            keep = stack.pop()[1] if stack else True
        elif not stack or not stack[-1][1]:
            keep = not stack
        else:
            keep = _property_kept(stack, head, allowed)
        if keep:
            kept.append(line)
    return contentops.fingerprint("\n".join(kept).encode("utf-8"))


def _filtered(stack: list) -> bool:
    """Whether the innermost component has its properties filtered (as ``_keep``)."""
    if not stack or stack[0][0] not in ("VCARD", "VNOTE", "VCALENDAR"):
        return False
    if stack[0][0] == "VCALENDAR":
        return len(stack) == 2 and stack[1][0] in ITEM_COMPONENTS
    return len(stack) == 1


def _component_kept(stack: list, name: str, allowed: frozenset[str]) -> bool:
    if stack and not stack[-1][1]:
        return False
    if not _filtered(stack):
        return True
    return name in KEPT_COMPONENTS or name in allowed


def _property_kept(stack: list, name: str, allowed: frozenset[str]) -> bool:
    return not _filtered(stack) or name in allowed or name in ALWAYS

class FilteredPrints:
    """Fingerprints of our items' filtered views, for slow-sync pairing under a field
    filter: built lazily, one page of items at a time, only as far as a lookup needs."""

    def __init__(self) -> None:
        self.by_print: dict[str, list[str]] = {}
        self.after: str | None = None      # the last guid indexed
        self.done = False

    def find(self, wanted: str, next_page, usable) -> str | None:
        """The first indexed guid with fingerprint ``wanted`` that ``usable(guid)``
        accepts, indexing further pages (``next_page(after)``: [(guid, print)], empty
        when exhausted) until one turns up."""
        for guid in self.by_print.get(wanted, ()):
            if usable(guid):
                return guid
        while not self.done:
            page = next_page(self.after)
            if not page:
                self.done = True
                break
            self.after = page[-1][0]
            hit = None
            for guid, fp in page:
                if fp is None:
                    continue
                self.by_print.setdefault(fp, []).append(guid)
                if hit is None and fp == wanted and usable(guid):
                    hit = guid
            if hit is not None:
                return hit
        return None
