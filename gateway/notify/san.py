"""DS 1.2 Server Alerted Notification (package 0) and the legacy SyncML 1.1 form.

Binary layout (OMA-TS-DS_Protocol-V1_2 as implemented by SyncEvolution, Buteo, Funambol;
omads-protocol.md §6.1): digest (16) · header (version:10 ui-mode:2 initiator:1 future:27
session-id:16 id-length:8 server-id) · body (num-syncs:4 future:4, per sync: sync-type:4
future:4 content-type:24 uri-length:8 uri) · vendor bytes.
Digest = MD5(B64(MD5(server-id ":" password)) ":" nonce ":" B64(MD5(notification))).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from gateway.notify.errors import SANDecodeError
from gateway.notify.tables import content_type_name
from gateway.syncml.creds import b64_md5
from gateway.syncml.devinf import DevInf
from gateway.syncml.metinf import Meta
from gateway.syncml.items import Cred
from gateway.syncml.model import Alert, Item, Location, Message, SyncBody, SyncHdr

DIGEST_SIZE = 16
HEADER_SIZE = 8            # fixed part of the notification header, before the server id
VERSION_1_2 = 12           # 10 * major + minor
SYNC_TYPES = range(206, 211)   # alert codes a SAN may carry (omads-protocol.md §3.1)
TWO_WAY_BY_SERVER = 206   # the alert of a SAN for "all datastores" in the legacy form
SAN_SYNC_CAP = 7           # DevInf SyncCap SyncType "server alerted sync" (§3.2)


class UIMode(IntEnum):
    NOT_SPECIFIED = 0
    BACKGROUND = 1
    INFORMATIVE = 2
    USER_INTERACTION = 3


class Initiator(IntEnum):
    USER = 0
    SERVER = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class SANSync:
    """One datastore to sync: alert code (206..210), SAN content-type number, server URI."""

    sync_type: int = 206
    content_type: int = 0
    server_uri: str = ""

    def __post_init__(self) -> None:
        if not 200 <= self.sync_type <= 215:
            raise ValueError(f"sync type {self.sync_type} does not fit the 4-bit field")
        if not 0 <= self.content_type < 1 << 24:
            raise ValueError(f"content type {self.content_type:#x} is not 24 bits")
        if len(self.server_uri.encode("utf-8")) > 255:
            raise ValueError("server URI longer than 255 bytes")


@dataclass(frozen=True, kw_only=True, slots=True)
class SAN:
    """A decoded or to-be-encoded package 0 (the digest is computed by ``encode_san``)."""

    server_id: str
    version: int = VERSION_1_2
    ui_mode: UIMode = UIMode.NOT_SPECIFIED
    initiator: Initiator = Initiator.SERVER
    session_id: int = 0
    syncs: tuple[SANSync, ...] = ()      # empty: all datastores
    vendor: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.version < 1 << 10:
            raise ValueError("version does not fit 10 bits")
        if not 0 <= self.session_id < 1 << 16:
            raise ValueError("session id does not fit 16 bits")
        if len(self.server_id.encode("utf-8")) > 255:
            raise ValueError("server identifier longer than 255 bytes")
        if len(self.syncs) > 15:
            raise ValueError("at most 15 syncs fit the 4-bit num-syncs field")
        object.__setattr__(self, "ui_mode", UIMode(self.ui_mode))
        object.__setattr__(self, "initiator", Initiator(self.initiator))




def compute_digest(server_id: str, password: str, nonce: bytes, notification: bytes) -> bytes:
    """The 16-byte SAN digest over ``notification`` (every byte after the digest)."""
    cred = b64_md5(server_id.encode("utf-8") + b":" + password.encode("utf-8"))
    return hashlib.md5(cred + b":" + nonce + b":" + b64_md5(notification)).digest()


def encode_notification(san: SAN) -> bytes:
    """Header + body + vendor bytes: the part the digest covers."""
    sid = san.server_id.encode("utf-8")
    out = bytearray()
    out += bytes((san.version >> 2, ((san.version & 3) << 6) | (san.ui_mode << 4)
                  | (san.initiator << 3), 0, 0, 0))
    out += san.session_id.to_bytes(2, "big") + bytes((len(sid),)) + sid
    out.append(len(san.syncs) << 4)
    for sync in san.syncs:
        uri = sync.server_uri.encode("utf-8")
        out.append((sync.sync_type - 200) << 4)
        out += sync.content_type.to_bytes(3, "big") + bytes((len(uri),)) + uri
    return bytes(out + san.vendor)


def encode_san(san: SAN, *, password: str | None, nonce: bytes = b"") -> bytes:
    """The package 0 bytes; ``password=None`` writes an all-zero digest (no credentials)."""
    notification = encode_notification(san)
    if password is None:
        digest = bytes(DIGEST_SIZE)
    else:
        digest = compute_digest(san.server_id, password, nonce, notification)
    return digest + notification


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise SANDecodeError(f"truncated {what}: need {n} bytes", offset=self.pos)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def text(self, what: str) -> str:
        start = self.pos
        n = self.take(1, what + " length")[0]
        raw = self.take(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SANDecodeError(f"{what} is not UTF-8 text", offset=start + 1) from err


def decode_san(data: bytes, *, max_size: int = 4096) -> SAN:
    """Parse package 0 (the digest is not checked: see ``verify_san``)."""
    if len(data) > max_size:
        raise SANDecodeError(f"SAN of {len(data)} bytes exceeds {max_size}", offset=max_size)
    r = _Reader(data)
    r.take(DIGEST_SIZE, "digest")
    head = r.take(5, "header")
    version = (head[0] << 2) | (head[1] >> 6)
    if version < 10:
        raise SANDecodeError(f"unsupported SAN version {version}", offset=DIGEST_SIZE)
    ui_mode = UIMode((head[1] >> 4) & 3)
    initiator = Initiator((head[1] >> 3) & 1)
    session_id = int.from_bytes(r.take(2, "session id"), "big")
    server_id = r.text("server identifier")
    num = r.take(1, "num-syncs")[0] >> 4
    syncs = []
    for _ in range(num):
        at = r.pos
        code = (r.take(1, "sync type")[0] >> 4) + 200
        ctype = int.from_bytes(r.take(3, "content type"), "big")
        uri = r.text("server URI")
        if code not in SYNC_TYPES:
            raise SANDecodeError(f"sync type {code} is not a server-alerted code", offset=at)
        syncs.append(SANSync(sync_type=code, content_type=ctype, server_uri=uri))
    return SAN(server_id=server_id, version=version, ui_mode=ui_mode, initiator=initiator,
               session_id=session_id, syncs=tuple(syncs), vendor=data[r.pos:])


def verify_san(data: bytes, *, password: str, nonce: bytes = b"",
               server_id: str | None = None) -> bool:
    """True if the digest matches; ``server_id`` defaults to the one in the header."""
    san = decode_san(data)
    sid = san.server_id if server_id is None else server_id
    expected = compute_digest(sid, password, nonce, data[DIGEST_SIZE:])
    return hmac.compare_digest(expected, data[:DIGEST_SIZE])


# -- legacy SyncML 1.0/1.1 SAN (a SyncML message as package 0, §6.2) -------------------------


def legacy_san_message(san: SAN, *, ver_dtd: str = "1.1", cred: Cred | None = None) -> Message:
    """The SyncML 1.0/1.1 form: one Alert (206..210) per sync type, one Item per datastore
    (no syncs: one Alert 206 without Item); ``cred`` (san_legacy.server_cred) goes in the
    SyncHdr."""
    commands: list[Alert] = []
    by_type: dict[int, list[Item]] = {}
    for sync in san.syncs:
        mime = content_type_name(sync.content_type) if sync.content_type else None
        item = Item(source=Location(loc_uri=sync.server_uri),
                    meta=Meta(type=mime) if mime else None)
        by_type.setdefault(sync.sync_type, []).append(item)
    if not san.syncs:                    # all datastores: one Alert without Item
        by_type[TWO_WAY_BY_SERVER] = []
    for n, (code, items) in enumerate(by_type.items(), start=1):
        commands.append(Alert(cmd_id=str(n), data=code, items=tuple(items)))
    header = SyncHdr(ver_dtd=ver_dtd, ver_proto=f"SyncML/{ver_dtd}",
                     session_id=str(san.session_id), msg_id="1",
                     target=Location(loc_uri="/"), source=Location(loc_uri=san.server_id),
                     cred=cred)
    return Message(header=header, body=SyncBody(commands=tuple(commands), final=True))


def supports_server_alerted(devinf: DevInf) -> bool:
    """True if any datastore lists SyncCap SyncType 7 (server alerted sync)."""
    return any(SAN_SYNC_CAP in ds.sync_cap for ds in devinf.datastores)


def san_form_for(devinf: DevInf) -> str:
    """``"1.2"`` (binary package 0) for a DevInf of VerDTD 1.2 or later, else ``"1.1"``.

    A device that announced 1.0/1.1 DevInf only understands the SyncML-message form,
    whether or not it lists SyncCap 7 (old Sony Ericsson phones, §6.2, §8.2).
    """
    try:
        major, _, minor = devinf.ver_dtd.strip().partition(".")
        version = (int(major), int(minor or 0))
    except ValueError:
        return "1.1"
    return "1.2" if version >= (1, 2) else "1.1"
