"""The engine's view of item content: UID, identity, merge, conversion, fingerprints.

Delegates to ``gateway.content`` (its ``vformat.unfold`` is the one unfolding of content
lines, quoted-printable soft breaks included). Content a peer sends can be anything; a
function that fails on it gives None here (no merge, no conversion: the item is kept as
it came), so a malformed vCard never breaks a sync.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable

from gateway.content import convert as _convert
from gateway.content import merge as _merge
from gateway.content.vformat import unfolded

# Properties that change on every export and say nothing about the object itself.
VOLATILE = frozenset({"PRODID", "REV", "UID", "LAST-MODIFIED", "DTSTAMP", "CREATED",
                      "X-IRMC-LUID", "SEQUENCE"})


def _guarded(func: Callable[..., Any], *args: Any) -> Any:
    try:
        return func(*args)
    except Exception:  # noqa: BLE001 - content problems must not break a sync
        return None


def _unfolded(data: bytes) -> str:
    """The logical content lines of ``data`` as one text, a line per line."""
    if type(data) is bytes:
        return _unfolded_bytes(data)
    return unfolded(data).decode("utf-8", "replace")


@lru_cache(maxsize=4)
def _unfolded_bytes(data: bytes) -> str:
    # item_uid and fingerprint both read an item the engine stores: unfold it once.
    return unfolded(data).decode("utf-8", "replace")


def _prop_name(line: str) -> str:
    head = re.split(r"[;:]", line, maxsplit=1)[0]
    return head.split(".")[-1].upper()


_UID_LINE = re.compile(r"^(?:[^;:\n]*\.)?UID(?=[;:\n]|$)[^\n]*", re.MULTILINE | re.IGNORECASE)


def item_uid(data: bytes, content_type: str) -> str | None:
    got = _guarded(_convert.item_uid, data, content_type)
    if got:
        return got
    for match in _UID_LINE.finditer(_unfolded(data)):     # any text with a UID line
        line = match.group(0)
        if ":" in line:
            return line.split(":", 1)[1].strip() or None
    return None


# A whole content line whose name (after an optional group prefix) is volatile or X-.
_VOLATILE_LINE = re.compile(
    r"^(?:[^;:\n]*\.)?(?:" + "|".join(sorted(map(re.escape, VOLATILE), key=len, reverse=True))
    + r"|X-[^;:\n.]*)(?=[;:\n]|$)[^\n]*", re.MULTILINE | re.IGNORECASE)


def fingerprint(data: bytes) -> str:
    """A digest of the item without volatile properties, for slow-sync pairing: the
    unfolded content lines except volatile and X- ones, stripped, lower-cased, sorted.
    Stored with the item, so its definition must stay stable (when it changed, store
    schema step 4 had the stored ones recomputed)."""
    text = _VOLATILE_LINE.sub("", _unfolded(data))
    keep = sorted(filter(None, map(str.strip, text.lower().split("\n"))))
    return hashlib.sha1("\n".join(keep).encode("utf-8")).hexdigest()


def same_content(a: bytes, b: bytes, content_type: str) -> bool:
    got = _guarded(_merge.same_content, a, b, content_type)
    if isinstance(got, bool):
        return got
    return fingerprint(a) == fingerprint(b)


def merge(server: bytes, client: bytes, content_type: str, prefer: str) -> bytes | None:
    """Field-level merge, or None when no merge is available."""
    return _guarded(_merge.merge, server, client, content_type, prefer)


def merge3(base: bytes | None, server: bytes, client: bytes, content_type: str,
           prefer: str) -> bytes | None:
    """Three-way merge against ``base`` (the two-way ``merge`` without one, or when the
    three-way merge fails on the content), or None when no merge is available."""
    if base is not None:
        got = _guarded(_merge.merge3, base, server, client, content_type, prefer)
        if got is not None:
            return got
    return merge(server, client, content_type, prefer)


def convert(data: bytes, from_type: str, to_type: str) -> bytes | None:
    if from_type.lower() == to_type.lower():
        return data
    return _guarded(_convert.convert, data, from_type, to_type)


def modified_time(data: bytes) -> float | None:
    """REV / LAST-MODIFIED of a vCard or vCalendar item as a POSIX time, if present."""
    for line in _unfolded(data).split("\n"):
        if _prop_name(line) in ("REV", "LAST-MODIFIED") and ":" in line:
            value = line.split(":", 1)[1].strip()
            for fmt in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%S"):
                try:
                    return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
                except ValueError:
                    continue
    return None
