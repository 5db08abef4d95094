"""Item-level parts of a SyncML message: Target/Source locations, credentials,
challenges, items (with their Data), filters and map items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from gateway.syncml.devinf import DevInf, devinf_from_tree, devinf_to_tree
from gateway.syncml.fields import Field, Kind, read_node, write_node
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.tree import NS_DEVINF, NS_METINF, NS_SYNCML, Element

ItemData = Union[str, bytes, DevInf, Anchor, Element, None]


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """``<Target>`` or ``<Source>``: a LocURI and an optional LocName (+ Filter in Target)."""

    loc_uri: str = ""
    loc_name: str | None = None
    filter: "Filter | None" = None
    extra: tuple[Element, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Cred:
    meta: Meta | None = None
    data: str | bytes = ""
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Meta", "meta", Kind.NODE, Meta),
        Field("Data", "data", Kind.RAW),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Chal:
    meta: Meta | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (Field("Meta", "meta", Kind.NODE, Meta),)


def _read_data(el: Element) -> ItemData:
    if len(el.children) > 1:       # e.g. several DevInf <Property> of a Filter's Field
        return Element("Data", NS_SYNCML, list(el.children))
    if el.children:
        child = el.children[0]
        if child.tag == "DevInf" and child.ns == NS_DEVINF:
            return devinf_from_tree(child)
        if child.tag == "Anchor":
            return read_node(Anchor, child)
        return child
    # A Data element that is present but empty is "", as RAW leaves are.
    return el.text if el.text is not None else ""


def _write_data(value: ItemData, f: Field) -> list[Element]:
    if isinstance(value, DevInf):
        return [Element("Data", NS_SYNCML, [devinf_to_tree(value)])]
    if isinstance(value, Anchor):
        return [Element("Data", NS_SYNCML, [write_node(value, "Anchor", NS_METINF)])]
    if isinstance(value, Element):
        if value.tag == "Data":    # the children of a Data read back as they came
            return [Element("Data", NS_SYNCML, list(value.children))]
        return [Element("Data", NS_SYNCML, [value])]
    return [Element("Data", NS_SYNCML, None, value)]


_DATA = Field("Data", "data", Kind.CUSTOM, read=_read_data, write=_write_data)


@dataclass(frozen=True, kw_only=True, slots=True)
class Item:
    target: Location | None = None
    source: Location | None = None
    source_parent: str | None = None
    target_parent: str | None = None
    meta: Meta | None = None
    data: ItemData = None
    more_data: bool = False
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Target", "target", Kind.NODE, Location),
        Field("Source", "source", Kind.NODE, Location),
        Field("SourceParent", "source_parent", Kind.LOC),
        Field("TargetParent", "target_parent", Kind.LOC),
        Field("Meta", "meta", Kind.NODE, Meta),
        _DATA,
        Field("MoreData", "more_data", Kind.FLAG),
    )

    @property
    def source_uri(self) -> str | None:
        return self.source.loc_uri if self.source else None

    @property
    def target_uri(self) -> str | None:
        return self.target.loc_uri if self.target else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Filter:
    meta: Meta | None = None
    field: Item | None = None
    record: Item | None = None
    filter_type: str | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Meta", "meta", Kind.NODE, Meta),
        Field("Field", "field", Kind.CUSTOM,
              read=lambda el: _read_wrapped_item(el), write=lambda v, f: [_wrap_item("Field", v)]),
        Field("Record", "record", Kind.CUSTOM,
              read=lambda el: _read_wrapped_item(el), write=lambda v, f: [_wrap_item("Record", v)]),
        Field("FilterType", "filter_type", Kind.TEXT),
    )


def _read_wrapped_item(el: Element) -> Item:
    inner = el.find("Item")
    return read_node(Item, inner) if inner is not None else Item()


def _wrap_item(tag: str, item: Item) -> Element:
    return Element(tag, NS_SYNCML, [write_node(item, "Item")])


Location.FIELDS = (  # type: ignore[attr-defined]
    Field("LocURI", "loc_uri", Kind.TEXT),
    Field("LocName", "loc_name", Kind.TEXT),
    Field("Filter", "filter", Kind.NODE, Filter),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class MapItem:
    target: Location | None = None
    source: Location | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Target", "target", Kind.NODE, Location),
        Field("Source", "source", Kind.NODE, Location),
    )
