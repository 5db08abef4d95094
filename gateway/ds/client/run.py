"""Per-session bookkeeping of one client datastore, and the counters the summary shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.ds.client.settings import DatastoreConfig
from gateway.ds.client.state import DatastoreMemory
from gateway.ds.client.store import LocalStore
from gateway.ds.ops import OpQueue
from gateway.ds.settings import normalize_uri


@dataclass
class Counters:
    """What happened on each side (local = our store, remote = the server)."""

    local_added: int = 0
    local_updated: int = 0
    local_deleted: int = 0
    remote_added: int = 0
    remote_updated: int = 0
    remote_deleted: int = 0
    conflicts: int = 0
    refused_by_server: int = 0
    refused_by_us: int = 0

    @property
    def sent(self) -> int:
        return self.remote_added + self.remote_updated + self.remote_deleted

    @property
    def received(self) -> int:
        return self.local_added + self.local_updated + self.local_deleted


@dataclass
class DatastoreRun:
    config: DatastoreConfig
    store: LocalStore
    memory: DatastoreMemory
    asked: int                          # the alert code we sent
    last: str | None                    # anchors we sent
    next: str
    mode: int | None = None             # what the server's Alert settled on
    server_next: str | None = None
    alert_status: int | None = None
    failed: str | None = None           # why this datastore failed, if it did
    out: OpQueue | None = None          # our operations still to send (from package 3)
    out_chunk: dict | None = None       # our large object being sent
    total_out: int = 0                  # NumberOfChanges of our package
    in_chunk: dict | None = None        # large object being received
    acked: list[str] = field(default_factory=list)   # LUIDs the server acknowledged
    counters: Counters = field(default_factory=Counters)

    @property
    def local_uri(self) -> str:
        return self.config.local_uri

    @property
    def remote_uri(self) -> str:
        return self.config.remote_uri

    def lookup_luid(self, guid: str | None) -> str | None:
        if not guid:
            return None
        for table in (self.memory.pending_map, self.memory.map):
            for luid, g in table.items():
                if g == guid:
                    return luid
        return None

    def remember(self, luid: str, guid: str) -> None:
        self.memory.pending_map[luid] = guid

    def unmap(self, luid: str) -> None:
        self.memory.map.pop(luid, None)
        self.memory.pending_map.pop(luid, None)


def run_for(runs: dict[str, DatastoreRun], uri: str) -> DatastoreRun | None:
    """The run a LocURI names (ours or the server's, spelled as settings.normalize_uri)."""
    key = normalize_uri(uri)
    for run in runs.values():
        if key in (normalize_uri(run.local_uri), normalize_uri(run.remote_uri)):
            return run
    return None
