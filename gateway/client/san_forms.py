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

from dataclasses import dataclass

from gateway.client import san_check
from gateway.client.san_check import (Accepted, Refused, decode_nonce, media, modes_for,
                                      open_push)
from gateway.notify import san_legacy, wsp
from gateway.notify.errors import SANDecodeError

SAN_TYPES = (wsp.SAN_CONTENT_TYPE, *san_legacy.LEGACY_TYPES)   # what a listener accepts


@dataclass(frozen=True, kw_only=True)
class LegacyAccepted(Accepted):
    """An accepted SyncML 1.0/1.1 notification; ``authenticated``: it carried a good Cred."""

    ver_dtd: str = "1.1"
    authenticated: bool = False


def acceptable(content_type: str | None) -> bool:
    """True if a carrier's media type names a SAN of either form (or none is given)."""
    base = media(content_type)
    return base is None or base in SAN_TYPES


def unwrap_push(data: bytes) -> tuple[bytes, str]:
    """The SAN inside a WSP push PDU and its media type; DecodeError if it is none."""
    return open_push(data, SAN_TYPES)


def is_legacy(data: bytes, content_type: str | None) -> bool:
    base = media(content_type)
    if base is None:
        return san_legacy.looks_legacy(data)
    return base in san_legacy.LEGACY_TYPES


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
            nonce=decode_nonce(nonce_b64)):
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
