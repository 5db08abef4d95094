"""Building replies within the client's MaxMsgSize (omads-protocol.md §3.4, §3.7).

Commands are measured one by one (``sizing.py`` walks each command's element tree; what
it does not model is encoded inside an empty message instead: the codecs are additive,
no string table, no pretty-printing), placed in order while they fit, and the assembled
message is encoded once to verify (that encoding is the reply's body); if it is still too
big the budget shrinks and the plan is redone. What does not fit stays queued for the
next message.
Items too big for any message go in chunks (MoreData, Size in the first chunk), only to
clients that support large objects and never beyond their MaxObjSize.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from typing import Callable

from gateway.ds.commands import item_command, item_payload
from gateway.ds.ops import Op, OpQueue
from gateway.ds.sizing import CommandTrees, Unmeasurable
from gateway.syncml.model import Location, Message, Status, Sync, SyncBody, SyncHdr

_PLACEHOLDER_ID = "9999"
MIN_CHUNK = 256


@dataclass(kw_only=True)
class SyncSource:
    """One datastore we are sending: its pending operations and how to render them
    (``render(op)``: (kind, data, content type), None when the item is gone)."""

    name: str
    target: str                          # the peer's LocURI of the datastore
    source: str                          # ours
    pending: OpQueue
    out_chunk: dict | None               # the large object being sent, if any
    total: int                           # NumberOfChanges of the package
    render: Callable[[Op], tuple[str, bytes, str] | None]
    large_objs: bool
    max_obj_size: int | None
    ver_1_0: bool = False


@dataclass
class SyncPart:
    name: str
    sync: Sync
    consumed: int = 0                    # pending operations fully sent
    placed_ops: list[Op] = field(default_factory=list)   # op per item command, in order
    out_chunk: dict | None = None
    skipped: int = 0


@dataclass
class Plan:
    commands: list
    leftover: list
    parts: list[SyncPart]
    more: bool                            # anything left after this message
    placed: list = field(default_factory=list)  # the commands before numbering
    checked: tuple[bool, bytes] | None = None   # (Final, bytes) of the verified message

    def message(self, header: SyncHdr, final: bool) -> Message:
        return Message(header=header, body=SyncBody(commands=tuple(self.commands), final=final))


def number(commands: list) -> list:
    """Assign CmdIDs 1, 2, ... in document order (Sync children included)."""
    out = []
    n = 0
    for cmd in commands:
        n += 1
        if isinstance(cmd, Sync):
            cid = str(n)
            kids = []
            for child in cmd.commands:
                n += 1
                kids.append(replace(child, cmd_id=str(n)))
            out.append(replace(cmd, cmd_id=cid, commands=tuple(kids)))
        else:
            out.append(replace(cmd, cmd_id=str(n)))
    return out


class Packer:
    def __init__(self, encode: Callable[[Message], bytes], header: SyncHdr, limit: int, *,
                 encoding: str | None = None):
        self.encode = encode
        self.header = header
        self.limit = limit
        self._trees = CommandTrees(encoding) if encoding is not None else None
        probe = SyncHdr(ver_dtd=header.ver_dtd, ver_proto=header.ver_proto)
        self._probe = probe
        self._empty = len(encode(Message(header=probe, body=SyncBody())))
        self.base = len(encode(Message(header=header, body=SyncBody(final=True))))

    def size(self, cmd) -> int:
        """Bytes the command adds to a message (its CmdIDs counted as four digits)."""
        if self._trees is not None:
            try:
                return self._trees.size(cmd)
            except Unmeasurable:
                pass
        return self.measure(cmd)

    def measure(self, cmd) -> int:
        """``size`` by encoding the command inside an empty message."""
        if isinstance(cmd, Sync):
            cmd = replace(cmd, cmd_id=_PLACEHOLDER_ID, commands=tuple(
                replace(c, cmd_id=_PLACEHOLDER_ID) for c in cmd.commands))
        else:
            cmd = replace(cmd, cmd_id=_PLACEHOLDER_ID)
        msg = Message(header=self._probe, body=SyncBody(commands=(cmd,)))
        return len(self.encode(msg)) - self._empty

    def plan(self, first: list, queue: list, sources: list[SyncSource], *,
             allow_syncs: bool) -> Plan:
        budget = self.limit - self.base - 16
        for _ in range(6):
            plan = self._fill(first, queue, sources, budget, allow_syncs)
            body = self._encode(plan, not plan.more)
            plan.checked = (not plan.more, body)
            if len(body) <= self.limit or len(plan.commands) <= len(first) + 1:
                return plan
            budget -= len(body) - self.limit + 64
        return plan

    def reply(self, plan: Plan, final: bool) -> tuple[Message, bytes]:
        """The message of a plan and its encoding (the one made to verify it, if any)."""
        msg = plan.message(self.header, final)
        if plan.checked is not None and plan.checked[0] == final:
            return msg, plan.checked[1]
        return msg, self._encode(plan, final)

    def _encode(self, plan: Plan, final: bool) -> bytes:
        if self._trees is not None and plan.placed:
            try:
                return self._trees.encode(self.header, plan.placed, final)
            except Unmeasurable:
                pass
        return self.encode(plan.message(self.header, final))

    # -- filling -------------------------------------------------------------------
    def _fill(self, first: list, queue: list, sources: list[SyncSource], budget: int,
              allow_syncs: bool) -> Plan:
        placed = list(first)
        remaining = budget - sum(self.size(c) for c in first)
        leftover: list = []
        for i, cmd in enumerate(queue):
            s = self.size(cmd)
            if s <= remaining or len(placed) == len(first):
                placed.append(cmd)
                remaining -= s
            else:
                leftover = list(queue[i:])
                break
        parts: list[SyncPart] = []
        more = bool(leftover)
        if leftover or not allow_syncs:
            more = more or any(src.pending or src.out_chunk for src in sources)
            return Plan(commands=number(placed), leftover=leftover, parts=parts, more=more,
                        placed=placed)
        empty_room = budget - sum(self.size(c) for c in first)
        for src in sources:
            shell = Sync(target=Location(loc_uri=src.target),
                         source=Location(loc_uri=src.source),
                         number_of_changes=None if src.ver_1_0 else src.total)
            overhead = self.size(shell)
            if overhead > remaining and len(placed) > len(first):
                more = True
                break
            remaining -= overhead
            part, stop = self._fill_sync(src, shell, remaining, empty_room - overhead)
            remaining -= self.size(part.sync) - overhead
            placed.append(part.sync)
            parts.append(part)
            if part.consumed < len(src.pending) or part.out_chunk:
                more = True
            if stop:
                more = True
                break
        return Plan(commands=number(placed), leftover=[], parts=parts, more=more, placed=placed)

    def _fill_sync(self, src: SyncSource, shell: Sync, remaining: int,
                   empty_room: int) -> tuple[SyncPart, bool]:
        part = SyncPart(name=src.name, sync=shell)
        cmds: list = []
        chunk = src.out_chunk
        for op in src.pending:
            if chunk is not None:                       # continue a large object
                wire = base64.b64decode(chunk["wire"])
                cmd, piece_end, done = self._chunk(op, chunk, wire, chunk["offset"], remaining,
                                                   first=False)
                if cmd is None:
                    part.sync = replace(shell, commands=tuple(cmds))
                    part.out_chunk = chunk
                    return part, True
                cmds.append(cmd)
                part.placed_ops.append(op)
                remaining -= self.size(cmd)
                if not done:
                    part.out_chunk = {**chunk, "offset": piece_end}
                    part.sync = replace(shell, commands=tuple(cmds))
                    return part, True
                chunk = None
                part.consumed += 1
                continue
            rendered = src.render(op)
            if rendered is None:
                part.consumed += 1
                part.skipped += 1
                continue
            kind, data, ct = rendered
            if src.max_obj_size is not None and len(data) > src.max_obj_size:
                part.consumed += 1                       # the client could not take it
                part.skipped += 1
                continue
            cmd = item_command(kind, op.source, op.target, data, ct)
            s = self.size(cmd)
            if s <= remaining:
                cmds.append(cmd)
                part.placed_ops.append(op)
                remaining -= s
                part.consumed += 1
                continue
            if s <= empty_room:                          # fits an emptier message: later
                break
            payload, fmt = item_payload(data)
            wire = payload.encode("utf-8") if isinstance(payload, str) else payload
            too_big = src.max_obj_size is not None and len(wire) > src.max_obj_size
            if not src.large_objs or too_big:
                part.consumed += 1                       # cannot be delivered at all
                part.skipped += 1
                continue
            new_chunk = {"kind": kind, "ct": ct, "fmt": fmt, "offset": 0, "total": len(wire),
                         "wire": base64.b64encode(wire).decode("ascii")}
            cmd, piece_end, _ = self._chunk(op, new_chunk, wire, 0, remaining, first=True)
            if cmd is None:
                break
            cmds.append(cmd)
            part.placed_ops.append(op)
            part.out_chunk = {**new_chunk, "offset": piece_end}
            part.sync = replace(shell, commands=tuple(cmds))
            return part, True
        part.sync = replace(shell, commands=tuple(cmds))
        return part, part.consumed < len(src.pending)

    def _chunk(self, op: Op, chunk: dict, wire: bytes, offset: int, remaining: int, *,
               first: bool):
        """(command, end offset, last piece?) for the next piece, or (None, ..) if no room."""
        kind, ct, fmt, total = chunk["kind"], chunk["ct"], chunk["fmt"], chunk["total"]
        rest = wire[offset:]
        size_meta = total if first else None
        whole = item_command(kind, op.source, op.target, b"", ct, size=size_meta,
                                 payload=rest.decode("utf-8", "surrogateescape"), fmt=fmt)
        if not first and self.size(whole) <= remaining:
            return whole, len(wire), True
        empty = item_command(kind, op.source, op.target, b"", ct, more_data=True,
                             size=size_meta, payload="", fmt=fmt)
        room = remaining - self.size(empty) - 8
        if room < MIN_CHUNK:
            return None, offset, False
        end = min(len(wire), offset + room)
        while end > offset and end < len(wire) and (wire[end] & 0xC0) == 0x80:
            end -= 1
        piece = wire[offset:end].decode("utf-8", "surrogateescape")
        last = end >= len(wire)
        cmd = item_command(kind, op.source, op.target, b"", ct, more_data=not last,
                           size=size_meta, payload=piece, fmt=fmt)
        return cmd, end, last


def status_only(commands: list) -> bool:
    return all(isinstance(c, Status) for c in commands)
