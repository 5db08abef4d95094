"""The engine's events as an operator reads them: summary lines in the log and counts in
the metrics.

``Observer.emit(event, **fields)`` is the engine's ``log``; it runs on worker threads, so
the metrics are counted there (prometheus-client is thread-safe) and the log line is
handed to the reactor thread. At ``info``: one line per finished session and one per
datastore, refused logins with the account tried and the reason, expired sessions (the
sweeper, ``expired``). Every other engine event is a ``debug`` line. A session key is
never logged in full (``short_key``).

``notify_observer`` counts the notification service's outcomes from its log events
(sent, delivered, failed, retry) by carrier kind.
"""

from __future__ import annotations

from typing import Any, Callable

from gateway.service.metrics import Metrics
from gateway.store.ops import AUTH_FAILED, SessionRecord, short_key
from gateway.syncml.codes import StatusCode
from gateway.transport import logs

__all__ = ["Observer", "notify_observer", "LINES"]

elog = logs.get_logger("gateway.ds")

# event -> (level, format): the lines an operator reads.
LINES: dict[str, tuple[str, str]] = {
    "session finished": (
        "info", "session {session} device {device} user {user} ({transport}, SyncML "
                "{version}, {encoding_name}): {result}, {messages} messages, {bytes_in} B in, "
                "{bytes_out} B out, {duration} s"),
    "datastore finished": (
        "info", "sync {session} device {device} user {user} {datastore}: {mode}{why} "
                "{result}; from client +{add_in} ~{replace_in} -{delete_in} ={unchanged_in} refused "
                "{refused_in}; to client +{add_out} ~{replace_out} -{delete_out} refused "
                "{refused_out}; conflicts {conflicts}; items {bytes_in} B in, {bytes_out} B "
                "out; {duration} s"),
    "login refused": (
        "info", "login refused: device {device} from {peer}, account {account} ({scheme}): "
                "{reason} -> {status} (session {session})"),
}


def _encoding_name(encoding: Any) -> str:
    return str(encoding or "-").rpartition("+")[2] or "-"


def _debug_format(fields: dict[str, Any]) -> str:
    return "{event}" + "".join(f" {key}={{{key}}}" for key in fields
                               if key.isidentifier() and not key.startswith("log_"))


class Observer:
    def __init__(self, reactor: Any, metrics: Metrics | None = None):
        self.reactor = reactor
        self.metrics = metrics

    def emit(self, event: str, **fields: Any) -> None:
        if self.metrics is not None:
            self.metrics.engine_event(event, fields)
        self.reactor.callFromThread(self._log, event, fields)

    def _log(self, event: str, fields: dict[str, Any]) -> None:
        fields = dict(fields)     # the session key is cut by the logger (transport/logs.py)
        fields.setdefault("user", None)
        fields["user"] = fields["user"] or "-"
        if event == "authentication" and fields.get("status") not in (
                StatusCode.OK, StatusCode.AUTH_ACCEPTED, StatusCode.MISSING_CREDENTIALS):
            event = "login refused"
            fields.setdefault("account", None)
            fields["account"] = repr(fields["account"]) if fields["account"] else "(none)"
            fields["scheme"] = fields.get("scheme") or "-"
        line = LINES.get(event)
        if line is None:
            fields.pop("stats", None)
            elog.debug(_debug_format(fields), event=event, **fields)
            return
        level, fmt = line
        fields["encoding_name"] = _encoding_name(fields.get("encoding"))
        reason = fields.get("slow_reason")
        fields["why"] = f" ({reason})" if reason else ""
        fields.pop("stats", None)
        getattr(elog, level)(fmt, event=event, **fields)

    def expired(self, record: SessionRecord, now: float) -> None:
        """One line (and the count) for a session the sweeper ended."""
        if self.metrics is not None:
            self.metrics.expired(record)
        idle = max(0.0, now - record.updated)
        if record.state == AUTH_FAILED:
            elog.info("session {session} device {device} from {peer} expired without a login "
                      "({detail}); {messages} messages", session=short_key(record.key),
                      device=record.device_id, peer=record.peer or "-",
                      detail=record.detail, messages=record.messages)
            return
        elog.info("session {session} device {device} user {user} expired: no message for "
                  "{idle:.0f} s after {messages} messages", session=short_key(record.key),
                  device=record.device_id, user=record.username or "-", idle=idle,
                  messages=record.messages)


_NOTIFY_PREFIX = "notification {id} for {device}"


def notify_observer(metrics: Metrics) -> Callable[[dict[str, Any]], None]:
    """A log observer counting the notification service's outcomes into ``metrics``."""

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_namespace") != "gateway.notify":
            return
        fmt = event.get("log_format") or ""
        if not fmt.startswith(_NOTIFY_PREFIX):
            return
        route = str(event.get("route") or "")
        carrier = route.partition(":")[0] or None
        if "state" in event and " via {route}" in fmt:
            metrics.notify_event(carrier, str(event["state"]))
        elif fmt.startswith(_NOTIFY_PREFIX + " failed"):
            metrics.notify_event(carrier, "failed")
        elif "retry in" in fmt:
            metrics.notify_event(carrier, "retry")

    return observe
