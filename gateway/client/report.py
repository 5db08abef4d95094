"""What ``omads-sync`` shows: a progress line on stderr and the summary table."""

from __future__ import annotations

import sys

from gateway.ds.client.engine import ClientSession
from gateway.ds.client.events import Exchanged
from gateway.ds.client.settings import MODE_LABELS
from gateway.syncml.errors import DecodeError
# omads-trace's printer (gateway/syncml/trace.py); a public name there would be nicer.
from gateway.syncml import trace


class Progress:
    """``sent N  received M  messages K`` rewritten in place (only when enabled)."""

    def __init__(self, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.shown = False

    def __call__(self, event: Exchanged) -> None:
        if not self.enabled:
            return
        self.stream.write(f"\rsent {event.items_sent:>6}  received {event.items_received:>6}  "
                          f"messages {event.messages_sent:>4}  "
                          f"{(event.bytes_sent + event.bytes_received) / 1024:8.1f} KiB")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def summary(session: ClientSession) -> str:
    head = ("datastore", "mode", "local +", "local ~", "local -", "remote +", "remote ~",
            "remote -", "conflicts", "refused", "status")
    rows = [head]
    for run in session.runs.values():
        c = run.counters
        mode = MODE_LABELS.get(run.mode, str(run.mode)) if run.mode is not None else "-"
        status = run.failed or ("suspended" if session.suspended else
                                "ok" if session.done else "incomplete")
        rows.append((run.local_uri, mode, str(c.local_added), str(c.local_updated),
                     str(c.local_deleted), str(c.remote_added), str(c.remote_updated),
                     str(c.remote_deleted), str(c.conflicts),
                     str(c.refused_by_server + c.refused_by_us), status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"messages: {session.out_msg_id} sent / {session.messages} received; "
                 f"bytes: {session.bytes_sent} sent / {session.bytes_received} received")
    return "\n".join(lines)


def pretty(body: bytes, content_type: str) -> str:
    """A message as indented XML, as omads-trace prints it."""
    try:
        return trace.pretty(body, content_type).decode("utf-8", "replace")
    except DecodeError as exc:
        return f"(undecodable: {exc})"
