"""Meta information (the ``syncml:metinf`` DTD, WBXML code page 1; omads-protocol.md §3.6)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.syncml.fields import Field, Kind
from gateway.syncml.tree import NS_METINF, Element

M = NS_METINF


@dataclass(frozen=True, kw_only=True, slots=True)
class Anchor:
    last: str | None = None
    next: str | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Last", "last", Kind.TEXT, ns=M),
        Field("Next", "next", Kind.TEXT, ns=M),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Mem:
    shared_mem: bool = False
    free_mem: int | None = None
    free_id: int | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("SharedMem", "shared_mem", Kind.FLAG, ns=M),
        Field("FreeMem", "free_mem", Kind.INT, ns=M),
        Field("FreeID", "free_id", Kind.INT, ns=M),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Meta:
    """``<Meta>``: the MetInf elements, in MetInf DTD order."""

    format: str | None = None
    type: str | None = None
    mark: str | None = None
    size: int | None = None
    anchor: Anchor | None = None
    version: str | None = None
    next_nonce: str | None = None
    max_msg_size: int | None = None
    max_obj_size: int | None = None
    emi: tuple[str, ...] = ()
    mem: Mem | None = None
    shared_mem: bool = False
    field_level: bool = False
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("Format", "format", Kind.TEXT, ns=M),
        Field("Type", "type", Kind.TEXT, ns=M),
        Field("Mark", "mark", Kind.TEXT, ns=M),
        Field("Size", "size", Kind.INT, ns=M),
        Field("Anchor", "anchor", Kind.NODE, Anchor, ns=M),
        Field("Version", "version", Kind.TEXT, ns=M),
        Field("NextNonce", "next_nonce", Kind.TEXT, ns=M),
        Field("MaxMsgSize", "max_msg_size", Kind.INT, ns=M),
        Field("MaxObjSize", "max_obj_size", Kind.INT, ns=M),
        Field("EMI", "emi", Kind.TEXT, many=True, ns=M),
        Field("Mem", "mem", Kind.NODE, Mem, ns=M),
        Field("SharedMem", "shared_mem", Kind.FLAG, ns=M),
        Field("FieldLevel", "field_level", Kind.FLAG, ns=M),
    )
