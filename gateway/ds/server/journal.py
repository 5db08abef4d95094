"""What one message of a session leaves for the operator: the events the shell logs and
counts, and (with a ``Journal``) the history rows written in the message's transaction.

``record`` runs after the engine answered a message and before its session state is
saved. Its events, emitted once the transaction committed:

    session started     a new session: transport, SyncML version, encoding, peer
    message             sizes each way, encoding, the status codes each way
    datastore finished  per datastore of an ended session: mode, why slow, result,
                        items each way, refused ones by status, conflicts, bytes, duration
    session finished    result, messages, bytes each way, duration

With a journal, the session row, each message, the datastore results and, for a device
whose trace is switched on, the redacted messages (bounded in count and size) go to the
store's operations tables (gateway/store/ops.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gateway.ds.server import report
from gateway.ds.server.session import SessionState
from gateway.store.ops import (
    LIVE, OK, PARTIAL, DatastoreRecord, MessageRecord, OpsLog, SessionRecord, TraceEntry,
)
from gateway.syncml import codec
from gateway.syncml.model import Message, Status
from gateway.syncml.redact import redact

__all__ = ["Journal", "record"]


@dataclass(frozen=True, kw_only=True)
class Journal:
    """Where the history goes: ``ops(tx)`` gives the operations on an open transaction."""

    ops: Callable[[Any], OpsLog]
    trace_max_messages: int = 200      # per session, each way counted
    trace_max_bytes: int = 65536       # per message, after redaction


def _codes(msg: Message) -> list[int]:
    return [int(c.data) for c in msg.commands if isinstance(c, Status)]


def _datastore_events(state: SessionState, now: float) -> list[tuple[str, dict]]:
    out = []
    for ds in state.datastores.values():
        stats = ds.stats
        out.append(("datastore finished", {
            "session": state.key, "device": state.device_id, "user": state.username,
            "datastore": ds.name, "mode": report.MODE_NAMES.get(ds.mode, str(ds.mode)),
            "mode_code": ds.mode, "slow_reason": ds.slow_reason,
            "result": report.result_of(stats),
            "duration": round(max(0.0, now - (ds.started or state.created)), 3),
            "stats": dict(stats), **report.summary_fields(stats)}))
    return out


def _session_result(ds_events: list[tuple[str, dict]]) -> str:
    return PARTIAL if any(f["result"] != OK for _, f in ds_events) else OK


def _trace(ops: OpsLog, journal: Journal, state: SessionState, msg: Message, reply: Message,
           now: float) -> None:
    until = ops.trace_until(state.device_id)
    if until is None or until <= now:
        return
    for direction, message in (("in", msg), ("out", reply)):
        text = redact(codec.encode_message(message, codec.XML))
        truncated = len(text) > journal.trace_max_bytes
        ops.add_trace(TraceEntry(session_key=state.key, seq=state.messages,
                                 direction=direction, at=now,
                                 text=text[:journal.trace_max_bytes], truncated=truncated),
                      max_entries=journal.trace_max_messages)


def record(journal: Journal | None, tx: Any, state: SessionState, msg: Message,
           reply: Message, *, received: bytes, sent: bytes, ended: bool, new: bool,
           now: float, transport: str) -> list[tuple[str, dict]]:
    """The events of this message (see the module text); history rows with a journal."""
    notes: list[tuple[str, dict]] = []
    who = {"session": state.key, "device": state.device_id, "user": state.username}
    if new:
        notes.append(("session started", {**who, "transport": transport,
                                          "version": state.ver_dtd,
                                          "encoding": state.encoding, "peer": state.peer}))
    codes_in, codes_out = _codes(msg), _codes(reply)
    notes.append(("message", {**who, "msg_id": msg.header.msg_id, "bytes_in": len(received),
                              "bytes_out": len(sent), "encoding": state.encoding,
                              "codes_in": codes_in, "codes_out": codes_out}))
    ds_events = _datastore_events(state, now) if ended else []
    result = _session_result(ds_events) if ended else LIVE
    if ended:
        notes.extend(ds_events)
        notes.append(("session finished", {
            **who, "transport": transport, "version": state.ver_dtd,
            "encoding": state.encoding, "result": result, "messages": state.messages,
            "bytes_in": state.bytes_in, "bytes_out": state.bytes_out,
            "duration": round(max(0.0, now - state.created), 3)}))
    if journal is None:
        return notes
    ops = journal.ops(tx)
    ops.put_session(SessionRecord(
        key=state.key, device_id=state.device_id, username=state.username or None,
        peer=state.peer, transport=transport, version=state.ver_dtd, encoding=state.encoding,
        started=state.created, updated=now, expires=state.expires, state=result,
        messages=state.messages, bytes_in=state.bytes_in, bytes_out=state.bytes_out,
        detail=state.auth_detail if not state.authenticated else ""))
    ops.add_message(MessageRecord(
        session_key=state.key, seq=state.messages, msg_id=msg.header.msg_id, at=now,
        bytes_in=len(received), bytes_out=len(sent), encoding=state.encoding,
        codes_in=tuple(codes_in), codes_out=tuple(codes_out)))
    for _, f in ds_events:
        ops.put_result(DatastoreRecord(
            session_key=state.key, device_id=state.device_id, username=state.username or "",
            datastore=f["datastore"], mode=f["mode_code"], slow_reason=f["slow_reason"],
            result=f["result"], started=now - f["duration"], finished=now,
            counts=f["stats"]))
    _trace(ops, journal, state, msg, reply, now)
    return notes
