"""Serializable state of one server session (kept in the store between messages).

Everything the engine needs to take the next message of a session lives here, as plain
JSON, so any node sharing the database can continue it and a restart loses nothing.
Commands that did not fit into a reply (MaxMsgSize) are kept as an encoded XML blob.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields

FORMAT = 1  # bump when the layout changes incompatibly

# Per-datastore phases (omads-protocol.md §3.8).
ALERTED = "alerted"    # init package answered; waiting for the client's sync package
SENDING = "sending"    # client's sync package complete; we send our changes
DONE = "done"          # our changes all sent


@dataclass(kw_only=True)
class DatastoreState:
    name: str                           # our canonical datastore name
    client_uri: str                     # the client's LocURI of its datastore
    server_uri: str                     # our datastore's LocURI as the client spelled it
    mode: int                           # negotiated sync type (alert code 200..205)
    phase: str = ALERTED
    alert_pkg: int = 0                  # client package that carried the Alert
    resumed: bool = False
    client_last: str | None = None
    client_next: str | None = None
    server_last: str | None = None
    server_next: str | None = None
    base_rev: int = 0                   # synced_rev of the last good sync (0 on slow sync)
    snapshot_rev: int | None = None     # our revision when we collected our changes
    received: list[str] = field(default_factory=list)   # guids the client wrote this session
    old_map: dict[str, str] = field(default_factory=dict)  # slow sync: map before clearing
    pending: list[list] = field(default_factory=list)      # [op, guid, luid] still to send
    sendback: list[list] = field(default_factory=list)     # conflict results to send
    out_chunk: dict | None = None       # large object being sent
    in_chunk: dict | None = None        # large object being received
    failed_out: int = 0                 # our commands the client rejected
    client_rx: list[list[str]] = field(default_factory=list)  # [CTType, VerCT] it accepts
    sent: int = 0
    total_out: int = 0                  # NumberOfChanges of our sync package
    prepared: bool = False              # slow/refresh bookkeeping done at the first Sync


@dataclass(kw_only=True)
class SessionState:
    key: str
    created: float
    expires: float
    device_id: str = ""
    loc_name: str | None = None
    server_uri: str = ""
    ver_dtd: str = "1.2"
    ver_proto: str = "SyncML/1.2"
    session_id: str = ""
    encoding: str = ""
    peer: str = ""
    username: str | None = None
    authenticated: bool = False
    client_max_msg_size: int = 0
    client_max_obj_size: int | None = None
    client_large_objs: bool = False
    last_msg_id: str | None = None
    last_reply: str = ""                # b64 of the reply bytes to our last message
    out_msg_id: int = 0
    client_pkg: int = 0                 # client messages with <Final/> seen
    our_package_open: bool = False      # our last reply lacked Final because we had more
    queue: str = ""                     # b64 encoded XML SyncBody of commands still to send
    inflight: dict[str, list] = field(default_factory=dict)  # "msg:cmd" -> [ds, op, guid, luid]
    datastores: dict[str, DatastoreState] = field(default_factory=dict)
    sent_get_devinf: bool = False
    complete: bool = False
    format: int = FORMAT

    # -- serialization -------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "SessionState":
        raw = json.loads(data.decode("utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"session state format {raw.get('format')!r} is not {FORMAT}")
        known = {f.name for f in fields(cls)}
        ds_known = {f.name for f in fields(DatastoreState)}
        raw = {k: v for k, v in raw.items() if k in known}
        raw["datastores"] = {
            k: DatastoreState(**{kk: vv for kk, vv in v.items() if kk in ds_known})
            for k, v in raw.get("datastores", {}).items()}
        return cls(**raw)

    @property
    def cached_reply(self) -> bytes:
        return base64.b64decode(self.last_reply) if self.last_reply else b""

    def cache_reply(self, body: bytes) -> None:
        self.last_reply = base64.b64encode(body).decode("ascii")


@dataclass(kw_only=True)
class ResumeState:
    """What a suspended datastore sync needs to resume in a later session (DS 1.2 §3.9).

    Kept with ``save_session`` under ``resume_key(device, user, datastore)``."""

    datastore: DatastoreState
    suspended_at: float

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, "suspended_at": self.suspended_at,
                           "datastore": asdict(self.datastore)}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ResumeState":
        raw = json.loads(data.decode("utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError("resume state of another format")
        ds_known = {f.name for f in fields(DatastoreState)}
        ds = DatastoreState(**{k: v for k, v in raw["datastore"].items() if k in ds_known})
        return cls(datastore=ds, suspended_at=raw["suspended_at"])


def resume_key(device_id: str, username: str, datastore: str) -> str:
    return "resume\x1f" + "\x1f".join((device_id, username, datastore))
