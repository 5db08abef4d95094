"""What a sync did, counted per item: the tallies behind the summary line, the metrics and
the admin pages.

Each datastore of a session keeps ``DatastoreState.stats``, a flat dict of counters
(flat so a checkpoint's shallow copy restores it, see context.py):

    in.add  in.replace  in.delete      what the client's items did to our store
    in.unchanged                       client items we already held as they are (paired)
    out.add out.replace out.delete     items we sent that the client accepted
    refused_in.CODE                    the client's items we refused, by our status
    refused_out.CODE                   our items the client refused, by its status
    conflict.OUTCOME                   merged, client-won, duplicate, server-won
    bytes_in  bytes_out                item data each way (chunks of one object add up)

An item counts once, when it is complete: a chunk answered 213 (more to come) is not an
item. The client's side counts what was written (``applied``, called by the store writes
in context.py), not the status given: a slow sync's Add that pairs with an item we hold
is ``unchanged``, a merge stored is a replace, an item lost to server-wins is neither.
Our side counts the client's statuses: Copy counts as an add and Move as a replace.
"""

from __future__ import annotations

from typing import Any, Mapping

from gateway.syncml.codes import StatusCode

__all__ = ["MODE_NAMES", "CONFLICT_OUTCOMES", "applied", "count_in", "count_out", "add_bytes",
           "result_of", "summary_fields", "slow_reason", "tally"]

MODE_NAMES: dict[int, str] = {
    200: "two-way", 201: "slow", 202: "one-way-from-client", 203: "refresh-from-client",
    204: "one-way-from-server", 205: "refresh-from-server", 225: "resume",
}

# Status of a client's item -> how the conflict it met ended (omads-protocol.md §3.6).
CONFLICT_OUTCOMES: dict[int, str] = {
    StatusCode.CONFLICT_MERGED: "merged",
    StatusCode.CONFLICT_CLIENT_WON: "client-won",
    StatusCode.CONFLICT_DUPLICATE: "duplicate",
    StatusCode.CONFLICT_SERVER_WON: "server-won",
}

_OPS = {"Add": "add", "Copy": "add", "Replace": "replace", "Move": "replace",
        "Delete": "delete", "ADD": "add", "REPLACE": "replace", "DELETE": "delete"}
_MORE = StatusCode.CHUNK_ACCEPTED


def _bump(stats: dict[str, int], key: str, n: int = 1) -> None:
    stats[key] = stats.get(key, 0) + n


def applied(stats: dict[str, int], what: str) -> None:
    """One of the client's items changed our store (``add``, ``replace``, ``delete``) or
    was found there already (``unchanged``)."""
    _bump(stats, f"in.{what}")


def count_in(stats: dict[str, int], command: str, code: int) -> None:
    """The status we gave one item of the client's (``command``: Add, Replace...): its
    conflict, or its refusal."""
    if code == _MORE:
        return
    outcome = CONFLICT_OUTCOMES.get(code)
    if outcome is not None:
        _bump(stats, f"conflict.{outcome}")
    elif not 200 <= code < 300:
        _bump(stats, f"refused_in.{int(code)}")


def count_out(stats: dict[str, int], kind: str, code: int) -> None:
    """The client's status for one of our item commands (``kind``: ADD, REPLACE...)."""
    if code == _MORE:
        return
    if 200 <= code < 300:
        _bump(stats, f"out.{_OPS.get(kind, kind.lower())}")
    else:
        _bump(stats, f"refused_out.{int(code)}")


def add_bytes(stats: dict[str, int], direction: str, n: int) -> None:
    if n:
        _bump(stats, f"bytes_{direction}", n)


def tally(stats: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The counters under ``prefix.`` (``tally(s, "refused_in")`` -> {"415": 2})."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in sorted(stats.items()) if k.startswith(prefix + ".")}


def result_of(stats: Mapping[str, int]) -> str:
    """ok, or partial when items were refused either way."""
    refused = any(k.startswith(("refused_in.", "refused_out.")) for k in stats)
    return "partial" if refused else "ok"


def slow_reason(requested: int, prev: Any, last: str | None, needs_anchors: bool) -> str | None:
    """Why a datastore syncs slowly (or refreshes), None for a normal sync: ``requested``
    (the client asked for 201), ``refresh`` (203/205), ``first`` (no earlier sync),
    ``forgotten`` (an operator forgot its anchors), ``anchor_mismatch``."""
    if requested == 201:
        return "requested"
    if requested in (203, 205):
        return "refresh"
    if not needs_anchors:
        return None
    if prev is None:
        return "first"
    if not prev.client_anchor:
        return "forgotten"
    if (last or "") != prev.client_anchor:
        return "anchor_mismatch"
    return None


def _joined(counts: Mapping[str, int]) -> str:
    return ",".join(f"{k}x{v}" for k, v in counts.items()) or "none"


def summary_fields(stats: Mapping[str, int]) -> dict[str, Any]:
    """The tallies as the summary line's fields."""
    out: dict[str, Any] = {}
    for way in ("in", "out"):
        for op in ("add", "replace", "delete"):
            out[f"{op}_{way}"] = stats.get(f"{way}.{op}", 0)
        if way == "in":
            out["unchanged_in"] = stats.get("in.unchanged", 0)
        out[f"refused_{way}"] = _joined(tally(stats, f"refused_{way}"))
        out[f"bytes_{way}"] = stats.get(f"bytes_{way}", 0)
    out["conflicts"] = _joined(tally(stats, "conflict"))
    return out
