"""The gateway's loggers, filtered by the configured ``log_level``.

twistd installs its own log observer; ``get_logger`` returns a ``twisted.logger.Logger``
whose events pass a level filter before they reach the global publisher, and
``set_level`` (called by the service tree at start) moves that filter. A session key in
an event (the fields ``session`` and ``next``) is cut to its first characters: the log
never holds one in full (a key is all a peer needs to continue a session).
"""

from __future__ import annotations

from typing import Any

from twisted.logger import (
    FilteringLogObserver, LogLevel, LogLevelFilterPredicate, Logger, globalLogPublisher,
)

from gateway.store.ops import short_key

__all__ = ["get_logger", "set_level", "get_level", "SESSION_FIELDS"]

_predicate = LogLevelFilterPredicate(defaultLogLevel=LogLevel.info)


SESSION_FIELDS = ("session", "next")


def _publish(event: dict[str, Any]) -> None:
    for name in SESSION_FIELDS:
        value = event.get(name)
        if isinstance(value, str) and not value.endswith("…"):
            event[name] = short_key(value)
    globalLogPublisher(event)


_observer = FilteringLogObserver(_publish, [_predicate])


def get_logger(namespace: str) -> Logger:
    """A Logger for ``namespace`` whose events obey the configured level."""
    return Logger(namespace=namespace, observer=_observer)


def set_level(level: str) -> None:
    """Drop events below ``level`` ("debug", "info", "warn", "error", "critical")."""
    _predicate.setLogLevelForNamespace("", LogLevel.levelWithName(level))


def get_level() -> str:
    return _predicate.logLevelForNamespace("").name
