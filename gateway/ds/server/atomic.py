"""The Atomic command: its children succeed together or not at all (SyncML RepPro 1.2,
Atomic; status codes in omads-protocol.md §3.3).

The children run in order inside a store savepoint, after a checkpoint of the engine's
state (``MessageContext.checkpoint``). The first child that gets a status outside 2xx
fails the Atomic: the store rolls back to the savepoint and the engine state is restored;
the statuses the children already got become 216 where they were 2xx (the failing child
keeps its error code), the children after it are not run and get 215, and the Atomic
gets 507. On success the Atomic gets 200 and the children keep their statuses.

Nested Atomic commands are not legal and a nested one fails with 500 Command failed (the
RepPro note libsynthesis cites in its Atomic handling); its children are not run. Any
child status outside 2xx fails the Atomic (a 419 conflict too). A child that raises a
bug gets 500 and fails it; a StoreError still rolls back the whole message (engine.py).
The RepPro defines no code for children never run; we send 215 Not executed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from gateway.ds.server.context import MessageContext
from gateway.store.base import StoreError
from gateway.syncml.codes import StatusCode, is_success
from gateway.syncml.model import Atomic, Status, command_name

# Status codes (SyncML RepPro 1.2 §10; omads-protocol.md §3.3).
OK = StatusCode.OK
NOT_EXECUTED = StatusCode.NOT_EXECUTED              # the command was not run
ROLLED_BACK = StatusCode.ATOMIC_ROLLBACK_OK         # it ran, and was undone
COMMAND_FAILED = StatusCode.COMMAND_FAILED          # a nested Atomic; a child that raised
ATOMIC_FAILED = StatusCode.ATOMIC_FAILED

SAVEPOINT = "omads_atomic"


def run(ctx: MessageContext, cmd: Atomic, apply: Callable[[object], object]) -> list:
    """Run ``cmd``'s children through ``apply`` all or nothing; ``apply``'s results for
    the children that ran (none when the Atomic failed)."""
    name = command_name(cmd)
    if ctx.in_atomic:
        ctx.status(cmd, name, COMMAND_FAILED)
        ctx.status_all(cmd.commands, NOT_EXECUTED)
        return []
    own = len(ctx.statuses)
    ctx.status(cmd, name, OK)
    own = own if len(ctx.statuses) > own else None        # None: NoResp
    first = len(ctx.statuses)
    mark = ctx.checkpoint()
    ctx.tx.savepoint(SAVEPOINT)
    results, failed_at = [], None
    ctx.in_atomic = True
    try:
        for at, child in enumerate(cmd.commands):
            before = ctx.failures
            try:
                results.append(apply(child))
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug fails the Atomic, not the session
                ctx.note("command failed", command=command_name(child), error=repr(exc))
                ctx.status(child, command_name(child), COMMAND_FAILED)
            if ctx.failures != before:
                failed_at = at
                break
    finally:
        ctx.in_atomic = False
    if failed_at is None:
        ctx.tx.release(SAVEPOINT)
        return results
    ctx.tx.rollback_to(SAVEPOINT)
    ctx.tx.release(SAVEPOINT)
    ctx.restore(mark)
    ctx.statuses[first:] = [_rolled_back(s) for s in ctx.statuses[first:]]
    ctx.status_all(cmd.commands[failed_at + 1:], NOT_EXECUTED)
    ctx.failures += 1
    if own is not None:
        ctx.statuses[own] = replace(ctx.statuses[own], data=int(ATOMIC_FAILED))
    ctx.note("atomic rolled back", cmd_id=cmd.cmd_id, failed=command_name(
        cmd.commands[failed_at]))
    return []


def _rolled_back(entry):
    """A child's 2xx becomes 216 (a 215 stays: that command never ran)."""
    if isinstance(entry, Status) and is_success(entry.data) and entry.data != NOT_EXECUTED:
        return replace(entry, data=int(ROLLED_BACK))
    return entry
