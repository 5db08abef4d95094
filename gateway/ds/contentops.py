"""The engine's view of item content: UID, identity, merge, conversion, fingerprints.

Delegates to ``gateway.content`` (convert.py / merge.py) when it provides the functions;
otherwise falls back to simple line-based rules on vCard/vCalendar text so the engine
keeps working (no merge, no conversion: the item is sent as stored).
"""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import datetime, timezone
from typing import Any, Callable

# Properties that change on every export and say nothing about the object itself.
VOLATILE = frozenset({"PRODID", "REV", "UID", "LAST-MODIFIED", "DTSTAMP", "CREATED",
                      "X-IRMC-LUID", "SEQUENCE"})

_FUNCS: dict[str, Callable[..., Any] | None] = {}


def _content_func(module: str, name: str) -> Callable[..., Any] | None:
    key = module + "." + name
    if key not in _FUNCS or _FUNCS[key] is None:
        try:
            mod = importlib.import_module("gateway.content." + module)
            _FUNCS[key] = getattr(mod, name, None)
        except ImportError:
            _FUNCS[key] = None
    return _FUNCS[key]


def _call(module: str, name: str, *args: Any) -> Any:
    """Call a gateway.content function with bytes, or str if it wants text; None if absent
    or it fails on this input."""
    func = _content_func(module, name)
    if func is None:
        return None
    try:
        return func(*args)
    except TypeError:
        try:
            return func(*[a.decode("utf-8", "replace") if isinstance(a, bytes) else a
                          for a in args])
        except Exception:  # noqa: BLE001 - content problems must not break a sync
            return None
    except Exception:  # noqa: BLE001
        return None


def _as_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def unfolded_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\n[ \t]", "", text)
    return [ln for ln in text.split("\n") if ln.strip()]


def _prop_name(line: str) -> str:
    head = re.split(r"[;:]", line, maxsplit=1)[0]
    return head.split(".")[-1].upper()


_UID_LINE = re.compile(r"^(?:[^;:\n]*\.)?UID(?=[;:\n]|$)[^\n]*", re.MULTILINE | re.IGNORECASE)


def _unfolded(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    if "\r" in text:
        text = _NEWLINE.sub("\n", text)
    return _FOLD.sub("", text)


def item_uid(data: bytes, content_type: str) -> str | None:
    got = _call("convert", "item_uid", data, content_type)
    if isinstance(got, (str, bytes)) and got:
        return got if isinstance(got, str) else got.decode("utf-8", "replace")
    for match in _UID_LINE.finditer(_unfolded(data)):     # any text with a UID line
        line = match.group(0)
        if ":" in line:
            return line.split(":", 1)[1].strip() or None
    return None


_NEWLINE = re.compile(r"\r\n?")
_FOLD = re.compile(r"\n[ \t]")
# A whole content line whose name (after an optional group prefix) is volatile or X-.
_VOLATILE_LINE = re.compile(
    r"^(?:[^;:\n]*\.)?(?:" + "|".join(sorted(map(re.escape, VOLATILE), key=len, reverse=True))
    + r"|X-[^;:\n.]*)(?=[;:\n]|$)[^\n]*", re.MULTILINE | re.IGNORECASE)


def fingerprint(data: bytes) -> str:
    """A digest of the item without volatile properties, for slow-sync pairing: the
    unfolded content lines except volatile and X- ones, stripped, lower-cased, sorted.
    Stored with the item, so its definition must stay stable."""
    text = _VOLATILE_LINE.sub("", _unfolded(data))
    keep = sorted(filter(None, map(str.strip, text.lower().split("\n"))))
    return hashlib.sha1("\n".join(keep).encode("utf-8")).hexdigest()


def same_content(a: bytes, b: bytes, content_type: str) -> bool:
    got = _call("merge", "same_content", a, b, content_type)
    if got is None:
        got = _call("convert", "same_content", a, b, content_type)
    if isinstance(got, bool):
        return got
    return fingerprint(a) == fingerprint(b)


def merge(server: bytes, client: bytes, content_type: str, prefer: str) -> bytes | None:
    """Field-level merge, or None when no merge is available."""
    return _as_bytes(_call("merge", "merge", server, client, content_type, prefer))


def convert(data: bytes, from_type: str, to_type: str) -> bytes | None:
    if from_type.lower() == to_type.lower():
        return data
    return _as_bytes(_call("convert", "convert", data, from_type, to_type))


def modified_time(data: bytes) -> float | None:
    """REV / LAST-MODIFIED of a vCard or vCalendar item as a POSIX time, if present."""
    for line in unfolded_lines(data):
        if _prop_name(line) in ("REV", "LAST-MODIFIED") and ":" in line:
            value = line.split(":", 1)[1].strip()
            for fmt in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%S"):
                try:
                    return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
                except ValueError:
                    continue
    return None
