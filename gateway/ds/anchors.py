"""Sync anchors (omads-protocol.md §3.1): the Next anchor a side sends for this sync.

Both engines make theirs from the session's time (passed in), in the basic ISO 8601
form SyncML examples use; the peer only compares anchors for equality.
"""

from __future__ import annotations

from datetime import datetime, timezone


def new_anchor(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
