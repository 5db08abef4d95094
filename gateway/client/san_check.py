"""Is a Server Alerted Notification for us, and which syncs does it ask for?

The SAN (DS 1.2 package 0, omads-protocol.md §6) must name the profile's server id and
carry a digest made with the profile's server password (and nonce); each alerted
datastore (server URI) must be one of the profile's. 206..210 become the client's
200..205. Carriers: a WSP push PDU (WDP/UDP port 2948, or SMS user data after
reassembly) or a bare SAN (SIP MESSAGE body).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.ds.settings import normalize_uri
from gateway.notify import san as san_codec
from gateway.notify import wsp
from gateway.notify.errors import WSPDecodeError
from gateway.syncml.errors import DecodeError
from gateway.syncml.codes import AlertCode


@dataclass(frozen=True, kw_only=True)
class Accepted:
    modes: dict[str, int]               # local URI -> mode to sync with
    server_id: str
    session_id: int


@dataclass(frozen=True, kw_only=True)
class Refused:
    reason: str


def unwrap_push(data: bytes) -> bytes:
    """The SAN inside a WSP push PDU; DecodeError if it is none."""
    push = wsp.decode_push(data)
    if push.content_type.split(";")[0].strip().lower() != wsp.SAN_CONTENT_TYPE:
        raise WSPDecodeError(f"push of {push.content_type!r}, not a SAN")
    return push.body


def check(data: bytes, *, server_id: str, password: str, nonce_b64: str,
          datastores) -> Accepted | Refused:
    try:
        san = san_codec.decode_san(data)
    except DecodeError as exc:
        return Refused(reason=f"undecodable SAN: {exc}")
    if server_id and san.server_id != server_id:
        return Refused(reason=f"server id {san.server_id!r} is not {server_id!r}")
    try:
        nonce = base64.b64decode(nonce_b64 or "", validate=False)
    except (binascii.Error, ValueError):
        nonce = b""
    if not san_codec.verify_san(data, password=password, nonce=nonce,
                                server_id=server_id or None):
        return Refused(reason="bad digest")
    by_remote = {normalize_uri(ds.remote_uri): ds for ds in datastores}
    modes: dict[str, int] = {}
    if not san.syncs:
        modes = {ds.local_uri: ds.mode for ds in datastores}
    for sync in san.syncs:
        ds = by_remote.get(normalize_uri(sync.server_uri))
        if ds is not None:
            modes[ds.local_uri] = int(AlertCode(sync.sync_type).client_form())
    if not modes:
        return Refused(reason="it names none of our datastores")
    return Accepted(modes=modes, server_id=san.server_id, session_id=san.session_id)
