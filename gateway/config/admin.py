"""``[admin]`` in the configuration: the one admin listener (web pages, ``/metrics``, the
notification endpoints ``/notify``), its accounts and the history it shows.

The listener binds loopback (or a unix socket) only, unless ``allow_remote = true`` and
every endpoint is ``ssl:`` (TLS): the pages carry a session cookie and the admin's power.
``[notify] admin_listen``, the older spelling, is read as ``[admin] listen``; giving both
is a problem. Keys are documented in conf/omads-gateway.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.config import checks
from gateway.config.checks import Checker
from gateway.config.endpoints import endpoint_fields
from gateway.config.server import BootstrapUser, parse_users

__all__ = ["AdminSettings", "parse", "is_loopback"]

_KEYS = {"listen", "allow_remote", "session_timeout", "trace_duration", "trace_max_messages",
         "trace_max_bytes", "keep_sessions", "snapshot_interval", "user"}


@dataclass(frozen=True, kw_only=True)
class AdminSettings:
    listen: tuple[str, ...] = ()         # none: no admin listener
    allow_remote: bool = False           # non-loopback binds, TLS only
    session_timeout: float = 3600.0      # idle seconds before a web login ends
    trace_duration: float = 1800.0       # seconds a trace switched on from a page lasts
    trace_max_messages: int = 200        # traced messages kept per session (each way)
    trace_max_bytes: int = 65536         # of one traced message, redacted
    keep_sessions: int = 1000            # finished sessions kept in the history
    snapshot_interval: float = 15.0      # seconds between background counts (queue depth)
    users: tuple[BootstrapUser, ...] = ()   # admin accounts created at start when absent


_LOOPBACK_NAMES = {"localhost", "::1", "0:0:0:0:0:0:0:1"}


def is_loopback(host: str) -> bool:
    return host in _LOOPBACK_NAMES or host.startswith("127.")


def _bind_problem(desc: str, allow_remote: bool) -> str | None:
    """Why ``desc`` may not carry the admin pages, or None."""
    kind, _positional, keywords = endpoint_fields(desc)
    if kind == "unix":
        return None
    if kind == "systemd":
        return (f"endpoint {desc!r}: the admin listener cannot use a systemd socket "
                "(its address cannot be checked); use tcp:PORT:interface=127.0.0.1")
    interface = keywords.get("interface", "")
    if interface and is_loopback(interface):
        return None
    where = f"interface {interface}" if interface else "every interface"
    if not allow_remote:
        return (f"endpoint {desc!r} listens on {where}: the admin listener binds "
                "loopback only (add interface=127.0.0.1), unless allow_remote = true "
                "with an ssl: endpoint")
    if kind != "ssl":
        return (f"endpoint {desc!r} listens on {where} without TLS: with allow_remote = "
                "true every admin endpoint must be ssl:")
    return None


def parse(c: Checker, doc: Any, *, notify_listen: tuple[str, ...] = ()) -> AdminSettings:
    """``notify_listen``: ``[notify] admin_listen``, used when ``[admin] listen`` is not
    given."""
    t = c.section(doc, "[admin]", _KEYS)
    d = AdminSettings()
    listen = tuple(t.get("listen", [], checks.list_of(checks.endpoint)))
    if listen and notify_listen:
        t.problem("listen and [notify] admin_listen are both given: there is one admin "
                  "listener; keep [admin] listen")
    listen = listen or tuple(notify_listen)
    allow_remote = t.get("allow_remote", d.allow_remote, checks.boolean)
    for desc in listen:
        if checks.endpoint(desc) is None:
            problem = _bind_problem(desc, allow_remote)
            if problem is not None:
                t.problem(problem)
    users = parse_users(c, t.raw("user"), table="[[admin.user]]") if "user" in t else ()
    return AdminSettings(
        listen=listen,
        allow_remote=allow_remote,
        session_timeout=float(t.get("session_timeout", d.session_timeout, checks.seconds())),
        trace_duration=float(t.get("trace_duration", d.trace_duration, checks.seconds())),
        trace_max_messages=t.get("trace_max_messages", d.trace_max_messages,
                                 checks.integer(1, 100_000)),
        trace_max_bytes=t.get("trace_max_bytes", d.trace_max_bytes,
                              checks.integer(1024, 16_777_216)),
        keep_sessions=t.get("keep_sessions", d.keep_sessions, checks.integer(10, 10_000_000)),
        snapshot_interval=float(t.get("snapshot_interval", d.snapshot_interval,
                                      checks.seconds())),
        users=users,
    )
