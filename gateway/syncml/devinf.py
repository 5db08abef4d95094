"""Device information (DevInf 1.1 / 1.2; omads-protocol.md §2.4 and §3.11).

CTCap is per DataStore in 1.2 (nested Property/PropParam) and flat at DevInf level in 1.1
(CTType, PropName, ParamName, ValEnum... in sequence); both read into the same ``CTCap``
model and are written back in the form of the document's VerDTD.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.syncml.fields import Field, Kind, read_node, text_of, write_node
from gateway.syncml.tree import NS_DEVINF, Element

D = NS_DEVINF


def _f(tag: str, name: str, kind: Kind = Kind.TEXT, cls=None, many: bool = False, **kw) -> Field:
    return Field(tag, name, kind, cls, many, D, **kw)


@dataclass(frozen=True, kw_only=True, slots=True)
class CTInfo:
    """Rx / Tx / Rx-Pref / Tx-Pref: a content type and its version."""

    ct_type: str = ""
    ver_ct: str = ""
    extra: tuple[Element, ...] = ()

    FIELDS = (_f("CTType", "ct_type"), _f("VerCT", "ver_ct"))


@dataclass(frozen=True, kw_only=True, slots=True)
class PropParam:
    param_name: str = ""
    data_type: str | None = None
    val_enums: tuple[str, ...] = ()
    display_name: str | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("ParamName", "param_name"),
        _f("DataType", "data_type"),
        _f("ValEnum", "val_enums", many=True),
        _f("DisplayName", "display_name"),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Property:
    prop_name: str = ""
    data_type: str | None = None
    max_occur: int | None = None
    max_size: int | None = None
    no_truncate: bool = False
    val_enums: tuple[str, ...] = ()
    display_name: str | None = None
    params: tuple[PropParam, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("PropName", "prop_name"),
        _f("DataType", "data_type"),
        _f("MaxOccur", "max_occur", Kind.INT),
        _f("MaxSize", "max_size", Kind.INT),
        _f("NoTruncate", "no_truncate", Kind.FLAG),
        _f("ValEnum", "val_enums", many=True),
        _f("DisplayName", "display_name"),
        _f("PropParam", "params", Kind.NODE, PropParam, many=True),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class CTCap:
    ct_type: str = ""
    ver_ct: str | None = None
    field_level: bool = False
    properties: tuple[Property, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("CTType", "ct_type"),
        _f("VerCT", "ver_ct"),
        _f("FieldLevel", "field_level", Kind.FLAG),
        _f("Property", "properties", Kind.NODE, Property, many=True),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class DSMem:
    shared_mem: bool = False
    max_mem: int | None = None
    max_id: int | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("SharedMem", "shared_mem", Kind.FLAG),
        _f("MaxMem", "max_mem", Kind.INT),
        _f("MaxID", "max_id", Kind.INT),
    )


def _read_sync_cap(el: Element) -> tuple[int, ...]:
    out = []
    for c in el.children:
        if c.tag == "SyncType":
            t = text_of(c)
            if t.isdigit():
                out.append(int(t))
    return tuple(out)


def _write_sync_cap(value: tuple[int, ...], f: Field) -> list[Element]:
    return [Element("SyncCap", D, [Element("SyncType", D, None, str(v)) for v in value])]


@dataclass(frozen=True, kw_only=True, slots=True)
class FilterCap:
    ct_type: str = ""
    ver_ct: str = ""
    filter_keywords: tuple[str, ...] = ()
    prop_names: tuple[str, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("CTType", "ct_type"),
        _f("VerCT", "ver_ct"),
        _f("FilterKeyword", "filter_keywords", many=True),
        _f("PropName", "prop_names", many=True),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class DataStore:
    source_ref: str = ""
    display_name: str | None = None
    max_guid_size: int | None = None
    rx_pref: CTInfo | None = None
    rx: tuple[CTInfo, ...] = ()
    tx_pref: CTInfo | None = None
    tx: tuple[CTInfo, ...] = ()
    ctcaps: tuple[CTCap, ...] = ()
    ds_mem: DSMem | None = None
    support_hierarchical_sync: bool = False
    sync_cap: tuple[int, ...] = ()
    filter_rx: tuple[CTInfo, ...] = ()
    filter_caps: tuple[FilterCap, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("SourceRef", "source_ref"),
        _f("DisplayName", "display_name"),
        _f("MaxGUIDSize", "max_guid_size", Kind.INT),
        _f("Rx-Pref", "rx_pref", Kind.NODE, CTInfo),
        _f("Rx", "rx", Kind.NODE, CTInfo, many=True),
        _f("Tx-Pref", "tx_pref", Kind.NODE, CTInfo),
        _f("Tx", "tx", Kind.NODE, CTInfo, many=True),
        _f("CTCap", "ctcaps", Kind.NODE, CTCap, many=True),
        _f("DSMem", "ds_mem", Kind.NODE, DSMem),
        _f("SupportHierarchicalSync", "support_hierarchical_sync", Kind.FLAG),
        _f("SyncCap", "sync_cap", Kind.CUSTOM, read=_read_sync_cap, write=_write_sync_cap),
        _f("Filter-Rx", "filter_rx", Kind.NODE, CTInfo, many=True),
        _f("FilterCap", "filter_caps", Kind.NODE, FilterCap, many=True),
    )

    def accepts(self, ct_type: str) -> bool:
        types = [c.ct_type.lower() for c in (self.rx_pref, *self.rx) if c is not None]
        return ct_type.lower() in types

    def preferred_rx(self) -> CTInfo | None:
        return self.rx_pref or (self.rx[0] if self.rx else None)


@dataclass(frozen=True, kw_only=True, slots=True)
class Ext:
    xnam: str = ""
    xvals: tuple[str, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_f("XNam", "xnam"), _f("XVal", "xvals", many=True))


# -- 1.1 flat CTCap ---------------------------------------------------------------

_V11_PROP_TAGS = {"PropName", "ParamName", "ValEnum", "DataType", "Size", "MaxSize",
                  "DisplayName", "CTType", "NoTruncate", "MaxOccur"}


def _read_ctcap_v11(el: Element) -> tuple[CTCap, ...]:
    """Group the 1.1 flat sequence CTType (PropName (ValEnum|DataType|Size|DisplayName)*
    (ParamName (ValEnum|DataType|DisplayName)*)*)* into CTCap models."""
    caps: list[CTCap] = []
    ct: dict | None = None
    prop: dict | None = None
    param: dict | None = None

    def close_param():
        nonlocal param
        if param is not None and prop is not None:
            prop["params"].append(PropParam(**{**param, "val_enums": tuple(param["val_enums"])}))
        param = None

    def close_prop():
        nonlocal prop
        close_param()
        if prop is not None and ct is not None:
            p = dict(prop)
            p["val_enums"] = tuple(p["val_enums"])
            p["params"] = tuple(p["params"])
            ct["properties"].append(Property(**p))
        prop = None

    def close_ct():
        nonlocal ct
        close_prop()
        if ct is not None:
            caps.append(CTCap(ct_type=ct["ct_type"], properties=tuple(ct["properties"])))
        ct = None

    for c in el.children:
        tag, val = c.tag, text_of(c)
        if tag == "CTType":
            close_ct()
            ct = {"ct_type": val, "properties": []}
        elif ct is None:
            continue
        elif tag == "PropName":
            close_prop()
            prop = {"prop_name": val, "val_enums": [], "params": []}
        elif prop is None:
            continue
        elif tag == "ParamName":
            close_param()
            param = {"param_name": val, "val_enums": []}
        else:
            target = param if param is not None else prop
            if tag == "ValEnum":
                target["val_enums"].append(val)
            elif tag == "DataType":
                target["data_type"] = val
            elif tag == "DisplayName":
                target["display_name"] = val
            elif tag in ("Size", "MaxSize") and param is None and val.isdigit():
                prop["max_size"] = int(val)
            elif tag == "NoTruncate" and param is None:
                prop["no_truncate"] = True
            elif tag == "MaxOccur" and param is None and val.isdigit():
                prop["max_occur"] = int(val)
    close_ct()
    return tuple(caps)


def _write_ctcap_v11(caps: tuple[CTCap, ...]) -> Element:
    out: list[Element] = []
    for cap in caps:
        out.append(Element("CTType", D, None, cap.ct_type))
        for p in cap.properties:
            out.append(Element("PropName", D, None, p.prop_name))
            out.extend(Element("ValEnum", D, None, v) for v in p.val_enums)
            if p.data_type:
                out.append(Element("DataType", D, None, p.data_type))
            if p.max_size is not None:
                out.append(Element("Size", D, None, str(p.max_size)))
            if p.display_name:
                out.append(Element("DisplayName", D, None, p.display_name))
            for prm in p.params:
                out.append(Element("ParamName", D, None, prm.param_name))
                out.extend(Element("ValEnum", D, None, v) for v in prm.val_enums)
                if prm.data_type:
                    out.append(Element("DataType", D, None, prm.data_type))
                if prm.display_name:
                    out.append(Element("DisplayName", D, None, prm.display_name))
    return Element("CTCap", D, out)


@dataclass(frozen=True, kw_only=True, slots=True)
class DevInf:
    ver_dtd: str = "1.2"
    man: str | None = None
    mod: str | None = None
    oem: str | None = None
    fw_v: str | None = None
    sw_v: str | None = None
    hw_v: str | None = None
    dev_id: str = ""
    dev_typ: str = ""
    utc: bool = False
    support_large_objs: bool = False
    support_number_of_changes: bool = False
    datastores: tuple[DataStore, ...] = ()
    ctcaps: tuple[CTCap, ...] = ()     # DevInf-level CTCap (1.1 form)
    exts: tuple[Ext, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (
        _f("VerDTD", "ver_dtd"),
        _f("Man", "man"),
        _f("Mod", "mod"),
        _f("OEM", "oem"),
        _f("FwV", "fw_v"),
        _f("SwV", "sw_v"),
        _f("HwV", "hw_v"),
        _f("DevID", "dev_id"),
        _f("DevTyp", "dev_typ"),
        _f("UTC", "utc", Kind.FLAG),
        _f("SupportLargeObjs", "support_large_objs", Kind.FLAG),
        _f("SupportNumberOfChanges", "support_number_of_changes", Kind.FLAG),
        _f("DataStore", "datastores", Kind.NODE, DataStore, many=True),
        _f("CTCap", "ctcaps", Kind.CUSTOM, read=_read_ctcap_v11,
           write=lambda v, f: [_write_ctcap_v11(v)]),
        _f("Ext", "exts", Kind.NODE, Ext, many=True),
    )

    def datastore(self, source_ref: str) -> DataStore | None:
        key = source_ref.lstrip("./").lower()
        for ds in self.datastores:
            if ds.source_ref.lstrip("./").lower() == key:
                return ds
        return None

    def all_ctcaps(self) -> tuple[CTCap, ...]:
        return self.ctcaps + tuple(c for ds in self.datastores for c in ds.ctcaps)


def devinf_from_tree(el: Element) -> DevInf:
    """Read a ``DevInf`` element (either version)."""
    return read_node(DevInf, el)


def devinf_to_tree(di: DevInf) -> Element:
    """The ``DevInf`` element (ns NS_DEVINF) in the form of ``di.ver_dtd``."""
    return write_node(di, "DevInf", D)
