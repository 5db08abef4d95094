"""Is a Server Alerted Notification for us, and which syncs does it ask for?

The SAN (DS 1.2 package 0, omads-protocol.md §6) must name the profile's server id and
carry a digest made with the profile's server password (and nonce); each alerted
datastore (server URI) must be one of the profile's. 206..210 become the client's
200..205. Carriers: a WSP push PDU (WDP/UDP port 2948, or SMS user data after
reassembly) or a bare SAN (SIP MESSAGE body). The helpers both SAN forms use (media type,
push body, nonce, modes) are here too; san_forms.py adds the SyncML 1.1 form.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.ds.settings import normalize_uri
from gateway.notify import san as san_codec
from gateway.notify import wsp
from gateway.notify.errors import WSPDecodeError
from gateway.notify.san import SANSync
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


def media(content_type: str | None) -> str | None:
    """The bare, lower-case media type, or None."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def open_push(data: bytes, types: tuple[str, ...]) -> tuple[bytes, str]:
    """The body of a WSP push PDU whose media type is one of ``types``, and that type;
    DecodeError if it is none."""
    push = wsp.decode_push(data)
    base = media(push.content_type) or ""
    if base not in types:
        raise WSPDecodeError(f"push of {push.content_type!r}, not a SAN")
    return push.body, base


def unwrap_push(data: bytes) -> bytes:
    """The DS 1.2 SAN inside a WSP push PDU; DecodeError if it is none."""
    return open_push(data, (wsp.SAN_CONTENT_TYPE,))[0]


def decode_nonce(nonce_b64: str) -> bytes:
    """The profile's SAN nonce (base64; anything else counts as none)."""
    try:
        return base64.b64decode(nonce_b64 or "", validate=False)
    except (binascii.Error, ValueError):
        return b""


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


def digest_problem(data: bytes, *, password: str, nonce: bytes, server_id: str) -> str | None:
    """Why the digest is refused, or None. Both ends agree on "no password": the gateway
    then sends an all-zero digest (no credentials), which is accepted exactly when we have
    no server password either; a real digest needs our password to be checked."""
    zero = data[:san_codec.DIGEST_SIZE] == bytes(san_codec.DIGEST_SIZE)
    if not password:
        if zero:
            return None
        return ("it carries a digest but no server password is set here "
                "(--server-password, or the profile's notify server_password)")
    if zero:
        return ("no digest (all zeros): the gateway has no server password for this device "
                "(omads-admin device notify-setup DEVICE --server-password ...)")
    if not san_codec.verify_san(data, password=password, nonce=nonce,
                                server_id=server_id or None):
        return "bad digest"
    return None


def check(data: bytes, *, server_id: str, password: str, nonce_b64: str,
          datastores) -> Accepted | Refused:
    try:
        san = san_codec.decode_san(data)
    except DecodeError as exc:
        return Refused(reason=f"undecodable SAN: {exc}")
    if server_id and san.server_id != server_id:
        return Refused(reason=f"server id {san.server_id!r} is not {server_id!r}")
    refused = digest_problem(data, password=password, nonce=decode_nonce(nonce_b64),
                             server_id=server_id)
    if refused is not None:
        return Refused(reason=refused)
    modes = modes_for(san.syncs, datastores)
    if not modes:
        return Refused(reason="it names none of our datastores")
    return Accepted(modes=modes, server_id=san.server_id, session_id=san.session_id)
