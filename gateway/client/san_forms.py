"""Both forms of the Server Alerted Notification, as ``omads-sync listen`` receives them.

The DS 1.2 binary package 0 (``application/vnd.syncml.ds.notification``, checked by
san_check.py) or the SyncML 1.0/1.1 message form (``application/vnd.syncml+wbxml`` or
``+xml``, omads-protocol.md §6.2). The carrier's media type (WSP push header, SIP
Content-Type) picks the form; without one the bytes do, the legacy form first as SANLIB
does. The legacy form has no digest: it must name the profile's server id, and a Cred in
its SyncHdr (auth-basic or auth-md5 over ``server-id:password``, with the profile's nonce)
must verify; one without a Cred is accepted as SANLIB and SyncEvolution send it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.client import san_check
from gateway.client.san_check import Accepted, Refused
from gateway.ds.settings import normalize_uri
from gateway.notify import san_legacy, wsp
from gateway.notify.errors import SANDecodeError, WSPDecodeError
from gateway.notify.san import SANSync
from gateway.syncml.codes import AlertCode

SAN_TYPES = (wsp.SAN_CONTENT_TYPE, *san_legacy.LEGACY_TYPES)   # what a listener accepts


@dataclass(frozen=True, kw_only=True)
class LegacyAccepted(Accepted):
    """An accepted SyncML 1.0/1.1 notification; ``authenticated``: it carried a good Cred."""

    ver_dtd: str = "1.1"
    authenticated: bool = False


def media(content_type: str | None) -> str | None:
    """The bare, lower-case media type, or None."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def acceptable(content_type: str | None) -> bool:
    """True if a carrier's media type names a SAN of either form (or none is given)."""
    base = media(content_type)
    return base is None or base in SAN_TYPES


def unwrap_push(data: bytes) -> tuple[bytes, str]:
    """The SAN inside a WSP push PDU and its media type; DecodeError if it is none."""
    push = wsp.decode_push(data)
    base = media(push.content_type) or ""
    if base not in SAN_TYPES:
        raise WSPDecodeError(f"push of {push.content_type!r}, not a SAN")
    return push.body, base


def is_legacy(data: bytes, content_type: str | None) -> bool:
    base = media(content_type)
    if base is None:
        return san_legacy.looks_legacy(data)
    return base in san_legacy.LEGACY_TYPES


def modes_for(syncs: tuple[SANSync, ...], datastores) -> dict[str, int]:
    """Local URI -> the client's sync mode for each alerted datastore of ours (206..210
    become 200..205); no syncs: every datastore in its own mode."""
    if not syncs:
        return {ds.local_uri: ds.mode for ds in datastores}
    by_remote = {normalize_uri(ds.remote_uri): ds for ds in datastores}
    modes: dict[str, int] = {}
    for sync in syncs:
        ds = by_remote.get(normalize_uri(sync.server_uri))
        if ds is not None:
            modes[ds.local_uri] = int(AlertCode(sync.sync_type).client_form())
    return modes


def _nonce(nonce_b64: str) -> bytes:
    try:
        return base64.b64decode(nonce_b64 or "", validate=False)
    except (binascii.Error, ValueError):
        return b""


def check_legacy(data: bytes, content_type: str | None, *, server_id: str, password: str,
                 nonce_b64: str, datastores) -> LegacyAccepted | Refused:
    try:
        got = san_legacy.decode_legacy_san(data, content_type)
    except SANDecodeError as exc:
        return Refused(reason=f"undecodable SyncML 1.1 SAN: {exc}")
    san = got.san
    if server_id and san.server_id != server_id:
        return Refused(reason=f"server id {san.server_id!r} is not {server_id!r}")
    if got.cred is not None and not san_legacy.verify_cred(
            got.cred, server_id=server_id or san.server_id, password=password,
            nonce=_nonce(nonce_b64)):
        return Refused(reason="bad credentials in the SyncML 1.1 SAN")
    modes = modes_for(san.syncs, datastores)
    if not modes:
        return Refused(reason="it names none of our datastores")
    return LegacyAccepted(modes=modes, server_id=san.server_id, session_id=san.session_id,
                          ver_dtd=got.ver_dtd, authenticated=got.cred is not None)


def check(data: bytes, content_type: str | None = None, *, server_id: str, password: str,
          nonce_b64: str, datastores) -> Accepted | Refused:
    """Accepted (with the modes to sync) or Refused (with the reason), for either form."""
    if not acceptable(content_type):
        return Refused(reason=f"content type {content_type!r} is not a SAN")
    if is_legacy(data, content_type):
        return check_legacy(data, content_type, server_id=server_id, password=password,
                            nonce_b64=nonce_b64, datastores=datastores)
    return san_check.check(data, server_id=server_id, password=password, nonce_b64=nonce_b64,
                           datastores=datastores)
