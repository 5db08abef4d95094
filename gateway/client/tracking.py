"""Change detection by content hash, shared by the folder and SQLite stores.

The store records, per LUID, the SHA-256 of the content both sides last agreed on
(``synced``). A LUID with content but no record was added; one whose hash differs was
modified; a record without content was deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from gateway.ds.client.store import ADDED, DELETED, MODIFIED, Change


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def diff(current: Iterable[tuple[str, str]], synced: dict[str, str]) -> list[Change]:
    """Changes between ``(luid, hash)`` pairs of the store and the synced record."""
    out: list[Change] = []
    seen: set[str] = set()
    for luid, digest in current:
        seen.add(luid)
        known = synced.get(luid)
        if known is None:
            out.append(Change(kind=ADDED, luid=luid))
        elif known != digest:
            out.append(Change(kind=MODIFIED, luid=luid))
    out.extend(Change(kind=DELETED, luid=luid) for luid in sorted(synced) if luid not in seen)
    return out
