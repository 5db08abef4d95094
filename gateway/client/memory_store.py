"""An in-memory local store (bench handsets, tests): a dict with hash change tracking."""

from __future__ import annotations

from gateway.client.tracking import content_hash, diff
from gateway.ds.client.store import Change


class MemoryStore:
    def __init__(self, items: dict[str, bytes] | None = None):
        self.items: dict[str, bytes] = dict(items or {})
        self.synced: dict[str, str] = {}
        self._n = 0

    def luids(self) -> list[str]:
        return sorted(self.items)

    def changes(self) -> list[Change]:
        return diff(((k, content_hash(v)) for k, v in self.items.items()), self.synced)

    def read(self, luid: str) -> bytes | None:
        return self.items.get(luid)

    def add(self, data: bytes, content_type: str) -> str:
        self._n += 1
        while f"m{self._n}" in self.items:
            self._n += 1
        luid = f"m{self._n}"
        self.items[luid] = data
        self.synced[luid] = content_hash(data)
        return luid

    def replace(self, luid: str, data: bytes, content_type: str) -> bool:
        if luid not in self.items:
            return False
        self.items[luid] = data
        self.synced[luid] = content_hash(data)
        return True

    def delete(self, luid: str) -> bool:
        self.synced.pop(luid, None)
        return self.items.pop(luid, None) is not None

    def mark_synced(self, luid: str) -> None:
        if luid in self.items:
            self.synced[luid] = content_hash(self.items[luid])

    def forget(self, luid: str) -> None:
        self.synced.pop(luid, None)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
