"""The commands both engines build: an item command from an operation (ops.py), the
Status answering a received command, and the Alerts that steer a package (222 next
message, 223 an object never completed; omads-protocol.md §3.3, §3.7); and the
datastore a received sync Alert names.

Item commands are addressed as the server sends them (Add: Source; Replace: Target and
Source; Delete: Target); the client re-addresses them (client/outgoing.client_form).
"""

from __future__ import annotations

import base64

from gateway.ds.ops import ADD, DELETE
from gateway.syncml.codes import AlertCode
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Add, Alert, Delete, Item, Location, Replace, Status, SyncHdr


def item_payload(data: bytes) -> tuple[str | bytes, str | None]:
    """Data for an Item: text when it is UTF-8, else base64 text with Format b64."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "b64"


def item_command(kind: str, source: str, target: str | None, data: bytes, ct: str, *,
                 more_data: bool = False, size: int | None = None,
                 payload: str | bytes | None = None,
                 fmt: str | None = None) -> Add | Replace | Delete:
    """One outgoing command (without CmdID). ``payload`` overrides ``data`` for chunks."""
    if kind == DELETE:
        return Delete(items=(Item(target=Location(loc_uri=target or source)),))
    if payload is None:
        payload, fmt = item_payload(data)
    meta = Meta(type=ct or None, format=fmt)
    item_meta = Meta(size=size) if size is not None else None
    if kind == ADD:
        item = Item(source=Location(loc_uri=source), meta=item_meta, data=payload,
                    more_data=more_data)
        return Add(meta=meta, items=(item,))
    item = Item(target=Location(loc_uri=target or source), source=Location(loc_uri=source),
                meta=item_meta, data=payload, more_data=more_data)
    return Replace(meta=meta, items=(item,))


def status(msg_ref: str, cmd, name: str, code: int, *, target: str | None = None,
           source: str | None = None, items: tuple[Item, ...] = (), chal=None) -> Status:
    """The Status for one received command (``cmd``: its CmdID is referenced)."""
    return Status(msg_ref=msg_ref, cmd_ref=getattr(cmd, "cmd_id", "") or "", cmd=name,
                  target_refs=(target,) if target else (),
                  source_refs=(source,) if source else (), data=int(code), items=items,
                  chal=chal)


def header_status(hdr: SyncHdr, code: int, chal=None) -> Status:
    """The Status for a received message's SyncHdr (CmdRef 0)."""
    return Status(msg_ref=hdr.msg_id, cmd_ref="0", cmd="SyncHdr",
                  target_refs=(hdr.target.loc_uri,) if hdr.target else (),
                  source_refs=(hdr.source.loc_uri,) if hdr.source else (), data=int(code),
                  chal=chal)


def alert_datastore_uri(alert: Alert) -> str | None:
    """The datastore LocURI a sync Alert names: its Item's Target, else its Source
    (Sony Ericsson C510 sends Source only)."""
    if not alert.items:
        return None
    item = alert.items[0]
    return item.target_uri or item.source_uri


def next_message_alert(target: str, source: str) -> Alert:
    """Alert 222: a message of only Statuses that asks the peer for its next message."""
    return Alert(data=int(AlertCode.NEXT_MESSAGE), items=(Item(
        target=Location(loc_uri=target), source=Location(loc_uri=source)),))


def interrupted_alert(buffer: dict) -> Alert:
    """Alert 223 for a large object whose last chunk never came (largeobj.receive's
    buffer: the command's LUID and Target)."""
    return Alert(data=int(AlertCode.NO_END_OF_DATA), items=(Item(
        target=Location(loc_uri=buffer["luid"] or ""),
        source=Location(loc_uri=buffer["target"]) if buffer.get("target") else None),))
