"""DevInf exchange (omads-protocol.md §3.11): our DevInf, and the client's, per device.

The client Puts its DevInf (``./devinf12``, ``./devinf11``, ``./devinf10``) or answers
our Get with Results; we keep it per device as an XML document. A Get of our DevInf is
answered with Results in the VerDTD and encoding of the request. In DevInf 1.2 each
datastore advertises record filters (Filter-Rx ``syncml:filtertype-cgi`` 1.0, and a
FilterCap per content type naming the filter keywords and the properties a filter may
use; omads-protocol.md §3.10, DevInf 1.2 §5.3.4).
"""

from __future__ import annotations

from dataclasses import replace

from gateway.ds import filters
from gateway.ds.ctcaps import ctcap_for
from gateway.ds.settings import ServerSettings, normalize_uri
from gateway.store.base import Device
from gateway.syncml import codec
from gateway.syncml.codes import ALL_SYNC_TYPES
from gateway.syncml.devinf import CTInfo, DataStore, DevInf, FilterCap
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Get, Item, Location, Results

DEVINF_URIS = {"1.2": "./devinf12", "1.1": "./devinf11", "1.0": "./devinf10"}
VERDTD_FOR_URI = {v: k for k, v in DEVINF_URIS.items()}


def devinf_uri(ver_dtd: str) -> str:
    return DEVINF_URIS.get(ver_dtd, "./devinf12")


def is_devinf_uri(uri: str | None) -> bool:
    return bool(uri) and normalize_uri(uri) in {normalize_uri(u) for u in DEVINF_URIS.values()}


def devinf_type(encoding: str) -> str:
    return codec.DEVINF_WBXML if encoding == codec.WBXML else codec.DEVINF_XML


def server_devinf(settings: ServerSettings, ver_dtd: str = "1.2", *,
                  with_ctcaps: bool = True) -> DevInf:
    """Our DevInf: one DataStore per configured datastore, SyncCap 1-7."""
    stores = []
    caps = []
    for ds in settings.datastores:
        infos = [CTInfo(ct_type=t, ver_ct=v) for t, v in ds.content_types]
        ds_caps = tuple(c for c in (ctcap_for(t, v) for t, v in ds.content_types) if c)
        stores.append(DataStore(
            source_ref=ds.name, display_name=ds.name, max_guid_size=32,
            rx_pref=infos[0] if infos else None, rx=tuple(infos[1:]),
            tx_pref=infos[0] if infos else None, tx=tuple(infos[1:]),
            ctcaps=ds_caps if (with_ctcaps and ver_dtd == "1.2") else (),
            sync_cap=ALL_SYNC_TYPES,
            filter_rx=(FILTER_RX,) if ver_dtd not in ("1.0", "1.1") else (),
            filter_caps=filter_caps(ds_caps, with_props=with_ctcaps)
            if ver_dtd not in ("1.0", "1.1") else ()))
        caps.extend(c for c in ds_caps if c not in caps)
    return DevInf(
        ver_dtd="1.2" if ver_dtd not in ("1.0", "1.1") else ver_dtd,
        man="omads-gateway", mod="omads-gateway", dev_id=settings.server_id, dev_typ="server",
        utc=True, support_large_objs=ver_dtd != "1.0", support_number_of_changes=ver_dtd != "1.0",
        datastores=tuple(stores),
        ctcaps=tuple(caps) if (with_ctcaps and ver_dtd in ("1.0", "1.1")) else ())


FILTER_RX = CTInfo(ct_type=filters.CGI_GRAMMAR, ver_ct="1.0")
_NOT_FILTERABLE = frozenset({"BEGIN", "END", "VERSION"})


def filter_caps(ctcaps, *, with_props: bool = True) -> tuple[FilterCap, ...]:
    """One FilterCap per content type: our filter keywords and its property names."""
    return tuple(FilterCap(
        ct_type=cap.ct_type, ver_ct=cap.ver_ct or "", filter_keywords=filters.FILTER_KEYWORDS,
        prop_names=tuple(dict.fromkeys(p.prop_name for p in cap.properties
                                       if p.prop_name not in _NOT_FILTERABLE))
        if with_props else ()) for cap in ctcaps)


def asked_uri(get: Get, ver_dtd: str) -> str:
    """The DevInf URI a Get names (ours of ``ver_dtd`` when it names none)."""
    return next((i.target_uri for i in get.items if i.target_uri), None) or devinf_uri(ver_dtd)


def results(get: Get, msg_ref: str, devinf: DevInf, *, ver_dtd: str, encoding: str) -> Results:
    """The Results answering a Get of our DevInf (either engine's)."""
    return Results(cmd_ref=get.cmd_id, msg_ref=msg_ref, meta=Meta(type=devinf_type(encoding)),
                   items=(Item(source=Location(loc_uri=asked_uri(get, ver_dtd)), data=devinf),))


def results_for_get(settings: ServerSettings, get: Get, msg_ref: str, ver_dtd: str,
                    encoding: str, *, with_ctcaps: bool = True) -> Results:
    """The server's Results: our DevInf in the version the Get's URI names."""
    asked = VERDTD_FOR_URI.get("./" + normalize_uri(asked_uri(get, ver_dtd)), ver_dtd)
    return results(get, msg_ref, server_devinf(settings, asked, with_ctcaps=with_ctcaps),
                   ver_dtd=ver_dtd, encoding=encoding)


def get_devinf(ver_dtd: str, encoding: str) -> Get:
    """A Get of the peer's DevInf (either engine's)."""
    return Get(meta=Meta(type=devinf_type(encoding)),
               items=(Item(target=Location(loc_uri=devinf_uri(ver_dtd))),))


def devinf_of_items(items: tuple[Item, ...], limits) -> DevInf | None:
    """The DevInf carried by a Put or Results (nested, or as an encoded document)."""
    for item in items:
        data = item.data
        if isinstance(data, DevInf):
            return data
        if isinstance(data, (str, bytes)) and data:
            raw = data.encode("utf-8") if isinstance(data, str) else data
            kind = codec.sniff(raw)
            try:
                return codec.decode_devinf(raw, kind, limits=limits)
            except codec.RemoteProtocolError:
                return None
    return None


def store_client_devinf(tx, device_id: str, username: str | None, devinf: DevInf,
                        now: float) -> None:
    dev = tx.get_device(device_id) or Device(device_id=device_id, username=username)
    tx.put_device(replace(dev, devinf=codec.encode_devinf(devinf, codec.XML), last_seen=now,
                          username=dev.username or username))


def load_client_devinf(tx, device_id: str, limits) -> DevInf | None:
    dev = tx.get_device(device_id)
    if dev is None or not dev.devinf:
        return None
    try:
        return codec.decode_devinf(bytes(dev.devinf), codec.XML, limits=limits)
    except codec.RemoteProtocolError:
        return None


def client_rx(devinf: DevInf | None, client_uri: str) -> list[list[str]]:
    """[[CTType, VerCT], ...] the client's datastore accepts, preferred first."""
    if devinf is None:
        return []
    ds = devinf.datastore(client_uri)
    if ds is None and len(devinf.datastores) == 1:
        ds = devinf.datastores[0]
    if ds is None:
        return []
    return [[c.ct_type, c.ver_ct] for c in (ds.rx_pref, *ds.rx) if c is not None]
