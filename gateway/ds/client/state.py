"""What the client keeps between sessions (JSON): anchors, ID maps, nonces, resume state.

Per datastore: the Next anchor we sent in the last good session (our next Last), the
server's Next anchor, the LUID->GUID map of items the server added, the MapItems not yet
acknowledged (sent again in the next session), and what a suspended sync needs to resume
(omads-protocol.md §3.8, §3.9). Per server URL: the md5 nonce it gave us last (§3.5).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

FORMAT = 1


@dataclass(kw_only=True)
class ResumeInfo:
    mode: int                           # the mode of the interrupted sync
    last: str | None                    # the anchors the interrupted sync used
    next: str
    sent: list[str] = field(default_factory=list)   # LUIDs the server acknowledged


@dataclass(kw_only=True)
class DatastoreMemory:
    last_anchor: str | None = None      # our Next of the last good sync
    server_anchor: str | None = None    # the server's Next of the last good sync
    map: dict[str, str] = field(default_factory=dict)       # LUID -> GUID
    pending_map: dict[str, str] = field(default_factory=dict)  # LUID -> GUID, not yet acked
    resume: ResumeInfo | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "DatastoreMemory":
        raw = {k: v for k, v in raw.items() if k in _MEMORY_FIELDS}
        resume = raw.pop("resume", None)
        mem = cls(**raw)
        mem.resume = ResumeInfo(**resume) if resume else None
        return mem


@dataclass(kw_only=True)
class ClientState:
    datastores: dict[str, DatastoreMemory] = field(default_factory=dict)  # by local URI
    nonces: dict[str, str] = field(default_factory=dict)   # server URL -> b64 NextNonce
    auth_types: dict[str, str] = field(default_factory=dict)  # server URL -> last Chal type
    server_devinf: dict[str, str] = field(default_factory=dict)  # URL -> DevInf XML
    session_counter: int = 0

    def memory(self, local_uri: str) -> DatastoreMemory:
        return self.datastores.setdefault(local_uri, DatastoreMemory())

    def to_bytes(self) -> bytes:
        out = {"format": FORMAT, "nonces": self.nonces, "auth_types": self.auth_types,
               "server_devinf": self.server_devinf, "session_counter": self.session_counter,
               "datastores": {k: v.to_dict() for k, v in self.datastores.items()}}
        return json.dumps(out, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes | None) -> "ClientState":
        if not data:
            return cls()
        raw = json.loads(data.decode("utf-8"))
        if raw.get("format") != FORMAT:
            raise ValueError(f"client state format {raw.get('format')!r} is not {FORMAT}")
        return cls(datastores={k: DatastoreMemory.from_dict(v)
                               for k, v in raw.get("datastores", {}).items()},
                   nonces=dict(raw.get("nonces", {})),
                   auth_types=dict(raw.get("auth_types", {})),
                   server_devinf=dict(raw.get("server_devinf", {})),
                   session_counter=int(raw.get("session_counter", 0)))


_MEMORY_FIELDS = frozenset(f.name for f in fields(DatastoreMemory))
