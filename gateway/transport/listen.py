"""Listeners: one named service per Twisted server endpoint string.

``listeners(reactor, descriptions, factory, prefix=..., where=...)`` builds one
``Listener`` per endpoint string (``tcp:8080:interface=127.0.0.1``, ``ssl:…``,
``unix:…``, ``systemd:…``), named ``<prefix>-<i>``; a string that cannot be built (a
missing TLS key file) is a ``ConfigError`` listing every such string, before anything
starts. The HTTP listeners, the notification admin listener and the OBEX endpoint
listeners are all made here.

A ``Listener`` binds in ``privilegedStartService`` (before twistd sheds root). A port that
cannot be bound raises ``ListenError`` there, whose text is one line naming the listener,
its endpoint and the reason; the service tree's root (gateway/service) turns it into that
one log line and a non-zero exit. The endpoints named above all bind synchronously; should
one report its failure later, it is logged the same way and the others keep running.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, maybeDeferred, succeed
from twisted.internet.endpoints import serverFromString
from twisted.python.failure import Failure

from gateway.config import ConfigError
from gateway.transport.logs import get_logger

__all__ = ["ListenError", "Listener", "listener", "listeners", "named"]

log = get_logger("gateway.transport.listen")


class ListenError(Exception):
    """A listener could not bind its port; the text is the whole story, on one line."""


class Listener(Service):
    """Listens with ``factory`` on ``endpoint`` while running; ``port`` once bound."""

    def __init__(self, name: str, endpoint: Any, factory: Any, *, description: str):
        self.setName(name)
        self.endpoint = endpoint
        self.factory = factory
        self.description = description
        self.port: Any = None
        self._waiting: Deferred[Any] | None = None

    def __repr__(self) -> str:
        return f"<Listener {self.name} on {self.description}>"

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        self._listen()

    def startService(self) -> None:
        super().startService()
        if self.port is None and self._waiting is None:   # privileged start skipped
            self._listen()

    def _problem(self, failure: Failure) -> str:
        return (f"{self.name}: cannot listen on {self.description}: "
                f"{failure.getErrorMessage().rstrip('.')}")

    def _listen(self) -> None:
        settled: list[Any] = []
        d = self.endpoint.listen(self.factory)
        d.addBoth(settled.append)           # consumes a failure: it is raised or logged
        if settled:                         # settled at once: the usual case
            if isinstance(settled[0], Failure):
                raise ListenError(self._problem(settled[0]))
            self.port = settled[0]
            return
        self._waiting = d                   # the endpoint binds later
        d.addCallback(lambda _: self._bound_late(settled[0]))

    def _bound_late(self, port: Any) -> None:
        self._waiting = None
        if isinstance(port, Failure):
            if not port.check(CancelledError):     # not our own stopService
                log.critical("{problem}", problem=self._problem(port))
            return
        self.port = port
        if not self.running:
            port.stopListening()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None
        port, self.port = self.port, None
        if port is None:
            return succeed(None)
        return maybeDeferred(port.stopListening)


def listener(reactor: Any, description: str, factory: Any, *, name: str) -> Listener:
    """A listener on one endpoint string; ValueError (and the endpoint parser's own
    errors: OSError, SSL errors…) if it cannot be built."""
    return Listener(name, serverFromString(reactor, description), factory,
                    description=description)


def named(prefix: str, builds: Iterable[tuple[str, Callable[[str], Any]]], *,
          where: str) -> list[Any]:
    """Build one service per ``(text, build)``, ``build(name)`` getting ``<prefix>-<i>``;
    ConfigError (naming the setting ``where``) lists every text that cannot be built."""
    made: list[Any] = []
    problems: list[str] = []
    for i, (text, build) in enumerate(builds):
        try:
            made.append(build(f"{prefix}-{i}"))
        except Exception as e:   # the parsers raise ValueError, KeyError, OSError, SSL errors
            problems.append(f"endpoint {text!r}: {type(e).__name__}: {e}")
    if problems:
        raise ConfigError(problems, where)
    return made


def listeners(reactor: Any, descriptions: Iterable[str], factory: Any, *, prefix: str,
              where: str) -> list[Listener]:
    """``<prefix>-0``, ``<prefix>-1``… one listener per endpoint string."""
    return named(prefix, ((desc, lambda name, desc=desc: listener(reactor, desc, factory,
                                                                   name=name))
                          for desc in descriptions), where=where)
