"""The local store as the client engine sees it (implemented in gateway/client/).

Change detection is the store's business: ``changes()`` reports what differs from the
state recorded by ``mark_synced``/``forget`` (the folder store compares content hashes).
Writes the engine makes on behalf of the server (``add``/``replace``/``delete``) record the
new state at once, so they never come back as local changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ADDED, MODIFIED, DELETED = "add", "replace", "delete"


@dataclass(frozen=True, kw_only=True)
class Change:
    kind: str                           # ADDED / MODIFIED / DELETED
    luid: str


class LocalStore(Protocol):
    def changes(self) -> list[Change]: ...
    def luids(self) -> list[str]: ...
    def read(self, luid: str) -> bytes | None: ...
    def add(self, data: bytes, content_type: str) -> str: ...
    def replace(self, luid: str, data: bytes, content_type: str) -> bool: ...
    def delete(self, luid: str) -> bool: ...
    def mark_synced(self, luid: str) -> None: ...
    def forget(self, luid: str) -> None: ...
