"""``/sessions`` (live and recent sync sessions) and ``/session?id=N`` (its messages with
sizes, encoding and status codes each way, its datastore results, and the redacted trace
when the device's trace was on). Session keys are shown shortened, never in full."""

from __future__ import annotations

from collections import Counter
from typing import Any

from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from gateway.admin.web.base import Page, PageError, arg
from gateway.admin.web.layout import dl, link, section, size, table, when
from gateway.ds.server.report import MODE_NAMES, summary_fields
from gateway.store.ops import short_key

__all__ = ["SessionList", "SessionPage"]


def _codes(codes: tuple[int, ...]) -> str:
    return ", ".join(f"{c}×{n}" if n > 1 else str(c) for c, n in sorted(Counter(codes).items())) or "-"


def _row(s: Any) -> tuple:
    return (link(short_key(s.key), "/session", id=s.id), link(s.device_id, "/device", id=s.device_id),
            s.username or "-", tags.span(s.state, class_=s.state), when(s.started),
            f"{s.transport} {s.version} {s.encoding.rpartition('+')[2] or '-'}", s.messages,
            f"{size(s.bytes_in)} / {size(s.bytes_out)}", f"{s.duration:.1f} s", s.detail or "")


HEADERS = ("Session", "Device", "User", "State", "Started", "Transport", "Messages",
           "Bytes in / out", "Duration", "Detail")


class SessionList(Page):
    title = "Sessions"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        ctx = self.ctx
        if ctx.ops is None:
            return tags.p("This store keeps no session history.")

        def load() -> tuple[list, list]:
            with ctx.ops.transaction() as (_tx, ops):
                return ops.list_sessions(live=True, limit=100), ops.list_sessions(live=False,
                                                                                 limit=100)
        live, recent = yield ctx.run(load)
        return [*section("Live", table(HEADERS, map(_row, live), empty="No session running.",
                                       numeric=(6,))),
                *section("Recent", table(HEADERS, map(_row, recent), empty="None yet.",
                                         numeric=(6,)))]


class SessionPage(Page):
    title = "Session"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        ctx = self.ctx
        raw = arg(request, "id")
        if ctx.ops is None or not raw.isdigit():
            raise PageError("No such session.", 404)

        def load() -> Any:
            with ctx.ops.transaction() as (_tx, ops):
                s = ops.get_session(int(raw))
                if s is None:
                    return None
                return (s, ops.list_messages(s.key), ops.session_results(s.key),
                        ops.list_traces(s.key))
        found = yield ctx.run(load)
        if found is None:
            raise PageError("No such session (it may have been pruned).", 404)
        s, messages, results, traces = found
        body: list[Any] = [dl((
            ("Session", short_key(s.key)), ("Device", link(s.device_id, "/device", id=s.device_id)),
            ("User", s.username), ("Peer", s.peer), ("State", tags.span(s.state, class_=s.state)),
            ("Transport", s.transport), ("SyncML", s.version), ("Encoding", s.encoding),
            ("Started", when(s.started)), ("Last message", when(s.updated)),
            ("Messages", s.messages), ("Bytes in / out", f"{size(s.bytes_in)} / {size(s.bytes_out)}"),
            ("Detail", s.detail)))]
        body += section("Messages", table(
            ("#", "MsgID", "At", "In", "Out", "Encoding", "Status codes received", "Status codes sent"),
            ((m.seq, m.msg_id, when(m.at), size(m.bytes_in), size(m.bytes_out),
              m.encoding.rpartition("+")[2], _codes(m.codes_in), _codes(m.codes_out))
             for m in messages), numeric=(0,)))
        rows = []
        for r in results:
            f = summary_fields(r.counts)
            rows.append((r.datastore, MODE_NAMES.get(r.mode, str(r.mode))
                         + (f" ({r.slow_reason})" if r.slow_reason else ""),
                         tags.span(r.result, class_=r.result),
                         f"+{f['add_in']} ~{f['replace_in']} −{f['delete_in']} ={f['unchanged_in']}",
                         f"+{f['add_out']} ~{f['replace_out']} −{f['delete_out']}",
                         f"{f['refused_in']} / {f['refused_out']}", f["conflicts"],
                         f"{r.duration:.1f} s"))
        body += section("Datastores", table(
            ("Datastore", "Mode", "Result", "From client", "To client", "Refused in / out",
             "Conflicts", "Duration"), rows, empty="No datastore finished in this session."))
        if traces:
            body += section("Trace (credentials, nonces and passwords masked)",
                            *[[tags.h3(f"Message {t.seq} {'from the client' if t.direction == 'in' else 'our reply'}"
                                       + (" (truncated)" if t.truncated else "")),
                               tags.pre(t.text)] for t in traces])
        else:
            body += section("Trace", tags.p("No trace: switch it on from the device's page to "
                                            "record its next sessions.", class_="muted"))
        return body
