"""The client's side of the DevInf exchange (omads-protocol.md §3.11).

We Put our DevInf (``./devinf12``) in the first message and Get the server's when we do
not know it yet; the server's Results (or Put) are kept per server URL. The Get, the
Results answering the server's Get and the parsing of a DevInf carried in an Item are
the server's functions (``devinf_exchange``).
"""

from __future__ import annotations

from gateway.ds.client.settings import ClientSettings
from gateway.ds.devinf_exchange import devinf_type, devinf_uri
from gateway.syncml.codes import ALL_SYNC_TYPES
from gateway.syncml.devinf import CTInfo, DataStore, DevInf
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Item, Location, Put

ALTERNATIVES = {  # what else we can take, by the type we prefer (content/convert.py)
    "text/vcard": ("text/x-vcard", "2.1"), "text/x-vcard": ("text/vcard", "3.0"),
    "text/calendar": ("text/x-vcalendar", "1.0"), "text/x-vcalendar": ("text/calendar", "2.0"),
}


def client_devinf(settings: ClientSettings) -> DevInf:
    stores = []
    for ds in settings.datastores:
        pref = CTInfo(ct_type=ds.content_type, ver_ct=ds.version)
        alt = ALTERNATIVES.get(ds.content_type.lower())
        others = (CTInfo(ct_type=alt[0], ver_ct=alt[1]),) if alt else ()
        stores.append(DataStore(
            source_ref=ds.local_uri, display_name=ds.local_uri, max_guid_size=64,
            rx_pref=pref, rx=others, tx_pref=pref, tx=others,
            sync_cap=ALL_SYNC_TYPES))
    return DevInf(ver_dtd=settings.ver_dtd, man="omads-gateway", mod="omads-sync",
                  dev_id=settings.device_id, dev_typ="workstation", utc=True,
                  support_large_objs=True, support_number_of_changes=True,
                  datastores=tuple(stores))


def put_devinf(settings: ClientSettings) -> Put:
    return Put(meta=Meta(type=devinf_type(settings.encoding)),
               items=(Item(source=Location(loc_uri=devinf_uri(settings.ver_dtd)),
                           data=client_devinf(settings)),))
