"""Table-driven mapping between the element tree and the frozen model dataclasses.

Each model class declares ``FIELDS``: a tuple of ``Field`` rows in DTD order. One table
serves both directions: reading collects children by tag, writing emits the rows in order.
Children no row names are kept in the object's ``extra`` tuple (and written back at the end),
so unknown elements survive a decode/encode round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from gateway.syncml.errors import ModelDecodeError
from gateway.syncml.tree import NS_SYNCML, Element


class Kind(Enum):
    TEXT = "text"        # leaf, stripped str
    RAW = "raw"          # leaf, str or bytes as received (Cred Data, opaque payloads)
    INT = "int"          # leaf, integer
    FLAG = "flag"        # empty element present -> True
    NODE = "node"        # nested model class (``cls``)
    LOC = "loc"          # an element holding one LocURI (SourceParent, TargetParent)
    CUSTOM = "custom"    # ``read``/``write`` functions given in the row


@dataclass(frozen=True, slots=True)
class Field:
    tag: str
    name: str
    kind: Kind
    cls: Any = None
    many: bool = False
    ns: str = NS_SYNCML
    read: Callable[[Element], Any] | None = None
    write: Callable[[Any, "Field"], list[Element]] | None = None


class Spec:
    """The compiled table of one model class."""

    __slots__ = ("cls", "fields", "by_tag", "defaults")

    def __init__(self, cls: type, fields: tuple[Field, ...]):
        self.cls = cls
        self.fields = fields
        self.by_tag = {f.tag: f for f in fields}


_SPECS: dict[type, Spec] = {}


def spec_of(cls: type) -> Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = Spec(cls, cls.FIELDS)
    return spec


def text_of(el: Element) -> str:
    t = el.text
    if t is None:
        return ""
    if isinstance(t, bytes):
        t = t.decode("utf-8", "replace")
    return t.strip()


def int_of(el: Element) -> int:
    t = text_of(el)
    try:
        return int(t)
    except ValueError:
        raise ModelDecodeError(f"{el.tag} must be a number, got {t[:40]!r}", path=el.tag) from None


def read_node(cls: type, el: Element) -> Any:
    """Build ``cls`` from ``el`` according to its FIELDS table."""
    spec = spec_of(cls)
    by_tag = spec.by_tag
    kw: dict[str, Any] = {}
    extra: list[Element] = []
    for child in el.children:
        f = by_tag.get(child.tag)
        if f is None:
            extra.append(child)
            continue
        kind = f.kind
        if kind is Kind.TEXT:
            v: Any = text_of(child)
        elif kind is Kind.RAW:
            v = child.text if child.text is not None else ""
        elif kind is Kind.INT:
            v = int_of(child)
        elif kind is Kind.FLAG:
            v = True
        elif kind is Kind.NODE:
            v = read_node(f.cls, child)
        elif kind is Kind.LOC:
            loc = child.find("LocURI")
            v = text_of(loc) if loc is not None else ""
        else:
            v = f.read(child)  # type: ignore[misc]
        if f.many:
            lst = kw.get(f.name)
            if lst is None:
                kw[f.name] = [v]
            else:
                lst.append(v)
        else:
            kw[f.name] = v
    for f in spec.fields:
        if f.many and f.name in kw:
            kw[f.name] = tuple(kw[f.name])
    if extra:
        kw["extra"] = tuple(extra)
    try:
        return cls(**kw)
    except (TypeError, ValueError) as e:
        raise ModelDecodeError(f"bad {el.tag}: {e}", path=el.tag) from None


def write_node(obj: Any, tag: str, ns: str = NS_SYNCML) -> Element:
    """The element for ``obj`` under ``tag``, children in table order."""
    children: list[Element] = []
    append = children.append
    written: set[str] = set()
    for f in spec_of(type(obj)).fields:
        value = getattr(obj, f.name)
        if value is None or value is False or value == ():
            continue
        if f.many:
            # Several rows may share one field (the commands of a SyncBody, in order).
            if f.name in written:
                continue
            written.add(f.name)
        values = value if f.many else (value,)
        kind = f.kind
        for v in values:
            if kind is Kind.TEXT or kind is Kind.RAW:
                append(Element(f.tag, f.ns, None, v if isinstance(v, (str, bytes)) else str(v)))
            elif kind is Kind.INT:
                append(Element(f.tag, f.ns, None, str(int(v))))
            elif kind is Kind.FLAG:
                append(Element(f.tag, f.ns, None, None))
            elif kind is Kind.NODE:
                append(write_node(v, f.tag, f.ns))
            elif kind is Kind.LOC:
                append(Element(f.tag, f.ns, [Element("LocURI", NS_SYNCML, None, v)]))
            else:
                children.extend(f.write(v, f))  # type: ignore[misc]
    extra = getattr(obj, "extra", ())
    if extra:
        children.extend(extra)
    return Element(tag, ns, children)
