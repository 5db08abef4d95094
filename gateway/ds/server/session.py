"""Serializable state of one server session (kept in the store between messages).

Everything the engine needs to take the next message of a session lives here, as plain
JSON, so any node sharing the database can continue it and a restart loses nothing.
Commands that did not fit into a reply (MaxMsgSize) are kept as an encoded XML blob.
Serialization is by hand (a shallow dict per object; ``json`` walks the plain lists and
dicts in C), since it runs for every message and some lists hold one entry per item:
records (``Op``, ``InFlight``) are JSON arrays, phases (phases.py) their names.

Format 2 holds the phases in place of the flags of format 1 (``authenticated``,
``our_package_open``, ``complete``; per datastore ``prepared``). A session of format 1
is refused (its client starts a new one); a suspended sync (``ResumeState``, kept for
days) of format 1 still loads.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from typing import NamedTuple

from gateway.ds.ops import Op, OpQueue
from gateway.ds.server.phases import (
    DatastoreInput, DatastorePhase, SessionInput, SessionPhase, datastore_next, session_next)

FORMAT = 2  # bump when the layout changes incompatibly
RESUME_FORMATS = (1, 2)    # ResumeState layouts that still load


class GuidSet:
    """The guids the client wrote in this session: kept as the list the session JSON
    holds, made a set only when asked for membership (so a message that only adds fresh
    guids costs nothing per guid already there)."""

    __slots__ = ("_list", "_set")

    def __init__(self, guids=()):
        self._list: list[str] = guids if type(guids) is list else list(guids)
        self._set: set[str] | None = None

    def _members(self) -> set[str]:
        if self._set is None:
            self._set = set(self._list)
        return self._set

    def add(self, guid: str) -> None:
        members = self._members()
        if guid not in members:
            members.add(guid)
            self._list.append(guid)

    def add_new(self, guid: str) -> None:
        """Add a guid the store just made (so it cannot be here yet)."""
        self._list.append(guid)
        if self._set is not None:
            self._set.add(guid)

    def __contains__(self, guid: object) -> bool:
        return guid in self._members()

    def __len__(self) -> int:
        return len(self._members())

    def __iter__(self):
        return iter(self._list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GuidSet):
            return self._members() == other._members()
        return NotImplemented

    def __repr__(self) -> str:
        return f"GuidSet({self._list!r})"

    def as_list(self) -> list[str]:
        return self._list

    def truncate(self, n: int) -> None:
        """Forget every guid added after the first ``n`` (an Atomic rolled back)."""
        if n < len(self._list):
            del self._list[n:]
            self._set = None


class InFlight(NamedTuple):
    """One of our commands the client has not answered yet (``SessionState.inflight``).
    ``payload``, ``fmt``: the whole item as sent, for the merge base (None for a Delete
    and for a chunk that does not end its item)."""

    datastore: str
    kind: str                   # ADD / REPLACE / DELETE (ops.py)
    guid: str
    luid: str | None
    payload: str | None = None
    fmt: str | None = None

    @property
    def op(self) -> Op:
        return Op(self.kind, self.guid, self.luid)


@dataclass(kw_only=True)
class DatastoreState:
    name: str                           # our canonical datastore name
    client_uri: str                     # the client's LocURI of its datastore
    server_uri: str                     # our datastore's LocURI as the client spelled it
    mode: int                           # negotiated sync type (AlertCode 200..205)
    phase: DatastorePhase = DatastorePhase.ALERTED
    alert_pkg: int = 0                  # client package that carried the Alert
    resumed: bool = False
    client_last: str | None = None
    client_next: str | None = None
    server_last: str | None = None
    server_next: str | None = None
    base_rev: int = 0                   # synced_rev of the last good sync (0 on slow sync)
    snapshot_rev: int | None = None     # our revision when we collected our changes
    received: GuidSet = field(default_factory=GuidSet)  # guids the client wrote this session
    pair: bool = True                   # slow sync: our datastore held items (so pair)
    old_map: dict[str, str] = field(default_factory=dict)  # (states saved before map_aside)
    map_aside: bool = False             # slow sync: the map before it kept under aside_device
    pending: OpQueue = field(default_factory=OpQueue)      # operations still to send
    sendback: list[Op] = field(default_factory=list)       # conflict results to send
    acked: dict[str, list] = field(default_factory=dict)   # guid -> [payload, format] of
    # items we added that the client accepted, until its Map names their LUID (maps.py)
    out_chunk: dict | None = None       # large object being sent
    in_chunk: dict | None = None        # large object being received
    failed_out: int = 0                 # our commands the client rejected
    client_rx: list[list[str]] = field(default_factory=list)  # [CTType, VerCT] it accepts
    sent: int = 0
    total_out: int = 0                  # NumberOfChanges of our sync package
    # filters the client asked for in its Alert (filters.py, fieldfilter.py); None: none
    record_filter: dict | None = None   # RecordFilter.to_dict(): expression, window, exclusive
    field_filter: list[str] | None = None  # property names the client wants in our items
    # what the sync did, counted per item (report.py), when it began, why it is slow
    stats: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    slow_reason: str | None = None

    def __post_init__(self) -> None:
        self._coerce()

    def _coerce(self) -> None:
        """Accept plain collections for ``received`` and ``pending`` (set by callers)."""
        if not isinstance(self.received, GuidSet):
            self.received = GuidSet(self.received)
        if not isinstance(self.pending, OpQueue):
            self.pending = OpQueue(self.pending)

    def advance(self, inp: DatastoreInput) -> None:
        self.phase = datastore_next(self.phase, inp)

    def to_dict(self) -> dict:
        self._coerce()
        out = {name: getattr(self, name) for name in _DS_FIELDS}
        out["phase"] = self.phase.value
        out["received"] = self.received.as_list()
        out["pending"] = self.pending.as_flat()
        return out

    @classmethod
    def from_dict(cls, raw: dict, fmt: int = FORMAT) -> "DatastoreState":
        kw = {k: v for k, v in raw.items() if k in _DS_FIELDS}
        phase = kw.get("phase", DatastorePhase.ALERTED.value)
        if fmt == 1 and phase == DatastorePhase.ALERTED.value and raw.get("prepared"):
            phase = DatastorePhase.RECEIVING.value     # format 1: a flag beside the phase
        kw["phase"] = DatastorePhase(phase)
        pending = kw.get("pending")
        if pending and not isinstance(pending[0], list):      # stored flat
            kw["pending"] = OpQueue.from_flat(pending)
        if kw.get("sendback"):
            kw["sendback"] = [Op(*op) for op in kw["sendback"]]
        return cls(**kw)


@dataclass(kw_only=True)
class SessionState:
    key: str
    created: float
    expires: float
    phase: SessionPhase = SessionPhase.AUTHENTICATING
    device_id: str = ""
    loc_name: str | None = None
    server_uri: str = ""
    ver_dtd: str = "1.2"
    ver_proto: str = "SyncML/1.2"
    session_id: str = ""
    encoding: str = ""
    peer: str = ""
    username: str | None = None
    client_max_msg_size: int = 0
    client_max_obj_size: int | None = None
    client_large_objs: bool = False
    last_msg_id: str | None = None
    last_reply: str = ""                # b64 of the reply bytes to our last message
    out_msg_id: int = 0
    client_pkg: int = 0                 # client messages with <Final/> seen
    queue: str = ""                     # b64 encoded XML SyncBody of commands still to send
    inflight: dict[str, InFlight] = field(default_factory=dict)   # by "msg:cmd"
    datastores: dict[str, DatastoreState] = field(default_factory=dict)
    sent_get_devinf: bool = False
    # for the operator (report.py): messages and bytes each way, the last refused login
    messages: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    auth_detail: str = ""
    format: int = FORMAT

    def advance(self, inp: SessionInput) -> None:
        self.phase = session_next(self.phase, inp)

    @property
    def authenticated(self) -> bool:
        return self.phase is not SessionPhase.AUTHENTICATING

    # -- serialization -------------------------------------------------------------
    def to_bytes(self) -> bytes:
        out = {name: getattr(self, name) for name in _SESSION_FIELDS}
        out["phase"] = self.phase.value
        out["datastores"] = {k: ds.to_dict() for k, ds in self.datastores.items()}
        return json.dumps(out, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "SessionState":
        raw = json.loads(data.decode("utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"session state format {raw.get('format')!r} is not {FORMAT}")
        raw = {k: v for k, v in raw.items() if k in _SESSION_FIELDS}
        raw["phase"] = SessionPhase(raw.get("phase", SessionPhase.AUTHENTICATING.value))
        raw["inflight"] = {k: InFlight(*v) for k, v in raw.get("inflight", {}).items()}
        raw["datastores"] = {k: DatastoreState.from_dict(v)
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
                           "datastore": self.datastore.to_dict()}).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> "ResumeState":
        raw = json.loads(data.decode("utf-8"))
        fmt = raw.get("format")
        if fmt not in RESUME_FORMATS:
            raise ValueError("resume state of another format")
        return cls(datastore=DatastoreState.from_dict(raw["datastore"], fmt),
                   suspended_at=raw["suspended_at"])


_DS_FIELDS = frozenset(f.name for f in fields(DatastoreState))
_SESSION_FIELDS = frozenset(f.name for f in fields(SessionState))


def aside_device(device_id: str) -> str:
    """The id_maps device under which a slow sync keeps the device's previous ID map
    (looked up per LUID while pairing; dropped when the sync completes, or replaced by
    the next slow sync of that datastore)."""
    return device_id + "\x1fbefore-slow-sync"


def resume_key(device_id: str, username: str, datastore: str) -> str:
    return "resume\x1f" + "\x1f".join((device_id, username, datastore))
