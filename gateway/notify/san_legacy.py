"""The SyncML 1.0/1.1 server-alerted notification read back, and its credentials.

The legacy package 0 is a SyncML message (omads-protocol.md §6.2): SyncHdr VerDTD
1.0/1.1, Source LocURI = server identifier, one Alert 206..210 per sync type with one
Item per datastore (Source LocURI = server URI, Meta Type = MIME type; an Alert
without Item here means all datastores, like the binary num-syncs 0); sent as
``application/vnd.syncml+wbxml`` or ``+xml``. It has no digest; the SyncHdr may carry a
Cred naming the server (auth-basic or auth-md5 over ``server-id:password``, §3.5).
SANLIB's receiver tries this form first, then the DS 1.2 binary one (§6.2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from gateway.notify.errors import SANDecodeError
from gateway.notify.san import SAN, SYNC_TYPES, Initiator, SANSync
from gateway.notify.tables import content_type_code
from gateway.syncml import codec
from gateway.syncml.creds import cred_text, md5_digest, md5_secret
from gateway.syncml.errors import DecodeError
from gateway.syncml.items import Cred
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Alert

LEGACY_TYPES = (codec.WBXML, codec.XML)       # the media types of the legacy form (§6.2)
VERSIONS = {"1.0": 10, "1.1": 11}             # VerDTD -> the SAN version number (§6.1)
AUTH_BASIC = "syncml:auth-basic"
AUTH_MD5 = "syncml:auth-md5"


@dataclass(frozen=True, kw_only=True, slots=True)
class LegacySAN:
    """A decoded legacy notification: its content as a ``SAN`` and the SyncHdr Cred."""

    san: SAN
    ver_dtd: str
    cred: Cred | None = None


def is_legacy_type(content_type: str | None) -> bool:
    """True for the SyncML message media types (parameters ignored)."""
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() in LEGACY_TYPES




def md5_cred_data(server_id: str, password: str, nonce: bytes = b"") -> str:
    """B64(MD5(B64(MD5(server-id ":" password)) ":" nonce)) (syncml:auth-md5, §3.5)."""
    return md5_digest(md5_secret(server_id, password), nonce)


def server_cred(server_id: str, password: str, nonce: bytes = b"") -> Cred:
    """The SyncHdr Cred a legacy notification carries (auth-md5, b64)."""
    return Cred(meta=Meta(type=AUTH_MD5, format="b64"),
                data=md5_cred_data(server_id, password, nonce))


def verify_cred(cred: Cred, *, server_id: str, password: str, nonce: bytes = b"") -> bool:
    """True if ``cred`` proves ``server_id:password`` (basic, or md5 with ``nonce``)."""
    kind = (cred.meta.type if cred.meta and cred.meta.type else AUTH_BASIC).strip()
    text = cred_text(cred.data)
    if text is None:
        return False
    if kind == AUTH_MD5:
        expected = md5_cred_data(server_id, password, nonce)
        return hmac.compare_digest(expected.encode("ascii"), text.encode("ascii", "replace"))
    if kind == AUTH_BASIC:
        try:
            given = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return False
        expected_basic = f"{server_id}:{password}".encode("utf-8")
        return hmac.compare_digest(expected_basic, given)
    return False


def _syncs(alert: Alert) -> list[SANSync]:
    if alert.data not in SYNC_TYPES:
        raise SANDecodeError(f"Alert {alert.data} is not a server-alerted code (206..210)")
    out: list[SANSync] = []
    for item in alert.items:
        where = item.source or item.target
        uri = where.loc_uri.strip() if where else ""
        if not uri:
            raise SANDecodeError(f"an Item of Alert {alert.data} has no LocURI")
        mime = item.meta.type if item.meta else None
        code = content_type_code(mime) if mime else None
        try:
            out.append(SANSync(sync_type=alert.data, content_type=code or 0, server_uri=uri))
        except ValueError as e:
            raise SANDecodeError(str(e)) from None
    return out


def decode_legacy_san(data: bytes, content_type: str | None = None, *,
                      max_size: int = 4096) -> LegacySAN:
    """Parse the SyncML 1.0/1.1 message form; SANDecodeError if it is not one.

    ``content_type`` picks XML or WBXML; without it the bytes decide (``<`` is XML).
    """
    if len(data) > max_size:
        raise SANDecodeError(f"SAN of {len(data)} bytes exceeds {max_size}", offset=max_size)
    media = content_type if is_legacy_type(content_type) else codec.sniff(data)
    try:
        msg = codec.decode_message(data, media)
    except DecodeError as e:
        raise SANDecodeError(f"not a SyncML message: {e}") from None
    hdr = msg.header
    ver = (hdr.ver_dtd or "").strip()
    if ver not in VERSIONS:
        raise SANDecodeError(f"VerDTD {ver!r} is not 1.0 or 1.1")
    if (hdr.ver_proto or "").strip() != f"SyncML/{ver}":
        raise SANDecodeError(f"VerProto {hdr.ver_proto!r} does not match VerDTD {ver}")
    server_id = hdr.source.loc_uri.strip() if hdr.source else ""
    if not server_id:
        raise SANDecodeError("the SyncHdr names no server (Source LocURI)")
    syncs: list[SANSync] = []
    alerts = 0
    for cmd in msg.body.commands:
        if not isinstance(cmd, Alert):
            raise SANDecodeError(f"a {type(cmd).__name__} command in a notification")
        alerts += 1
        syncs += _syncs(cmd)      # an Alert without Item: all datastores, as num-syncs 0
    if not alerts:
        raise SANDecodeError("no Alert in the notification")
    session = (hdr.session_id or "").strip()
    try:
        san = SAN(server_id=server_id, version=VERSIONS[ver], initiator=Initiator.SERVER,
                  session_id=int(session) & 0xFFFF if session.isdigit() else 0,
                  syncs=tuple(syncs))
    except ValueError as e:
        raise SANDecodeError(str(e)) from None
    return LegacySAN(san=san, ver_dtd=ver, cred=hdr.cred)


def looks_legacy(data: bytes) -> bool:
    """True if ``data`` starts like a SyncML document (XML, or WBXML naming a SyncML
    public id); a DS 1.2 package 0 starts with its 16-byte digest instead."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return True
    # WBXML: version 0x00..0x03, public id mb_u_int32 (9F 51 / 9F 53 = SyncML 1.0 / 1.1,
    # A4 01 = 1.2; or 0x00 + string-table index: the FPI as text), §1.1, §2.1.
    return len(data) > 3 and data[0] <= 0x03 and (
        data[1:3] in (b"\x9f\x51", b"\x9f\x53", b"\xa4\x01")
        or (data[1] == 0x00 and b"-//SYNCML//DTD SyncML" in data[:64]))
