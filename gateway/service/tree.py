"""The pieces of the service tree that are not listeners: the ordered root, the store's
owner, the log level, bootstrap accounts and the session sweeper."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from twisted.application import service
from twisted.internet.defer import Deferred, inlineCallbacks, maybeDeferred

from gateway.config import BootstrapUser, ConfigError
from gateway.store.accounts import make_secret
from gateway.store.base import Account, Store, StoreError
from gateway.transport import logs
from gateway.transport.listen import ListenError
from gateway.transport.pool import Runner

__all__ = ["OrderedMultiService", "GatewayService", "StoreService", "LogLevelService",
           "open_store", "bootstrap_users", "sweep"]

log = logs.get_logger("gateway.service")


class OrderedMultiService(service.MultiService):
    """Stops children one at a time in reverse order, waiting for each one's Deferred."""

    @inlineCallbacks
    def stopService(self) -> Any:
        service.Service.stopService(self)
        for child in reversed(list(self)):
            try:
                yield maybeDeferred(child.stopService)
            except Exception:
                log.failure("stopping {name} failed", name=child.name)


class GatewayService(OrderedMultiService):
    """The root of the gateway's tree: a listener that cannot bind its port ends the start
    with its one-line ``ListenError`` in the log and exit status 1 (no traceback)."""

    def privilegedStartService(self) -> None:
        try:
            super().privilegedStartService()
        except ListenError as e:
            self._refuse(e)

    def startService(self) -> None:
        try:
            super().startService()
        except ListenError as e:
            self._refuse(e)

    def _refuse(self, error: ListenError) -> None:
        log.critical("{problem}; not starting", problem=str(error))
        raise SystemExit(1)


class StoreService(service.Service):
    """Owns the store: closes it when the tree stops."""

    name = "store"

    def __init__(self, store: Store):
        self.store = store

    def stopService(self) -> None:
        super().stopService()
        self.store.close()


class LogLevelService(service.Service):
    """Applies the configured log level to the gateway's loggers at start."""

    name = "logging"

    def __init__(self, level: str):
        self.level = level

    def startService(self) -> None:
        super().startService()
        logs.set_level(self.level)


def open_store(path: str) -> Store:
    """The SQLite store at ``path`` (its directory is created); ConfigError if it fails."""
    from gateway.store.sqlite.store import SQLiteStore
    try:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SQLiteStore(Path(path).expanduser())
    except (OSError, StoreError) as e:
        raise ConfigError([f"cannot open the store {path!r}: {e}"], "[store] path") from None


def bootstrap_users(store: Store, users: Iterable[BootstrapUser]) -> list[str]:
    """Create the configured accounts that do not exist; an existing one is left as is."""
    created = []
    with store.transaction() as tx:
        for user in users:
            if tx.get_account(user.name) is None:
                tx.put_account(Account(username=user.name,
                                       secret=make_secret(user.name, user.password)))
                created.append(user.name)
    return created


def _expire_sessions(store: Store, now: float, ops: Any, keep: int) -> tuple[int, list]:
    with store.transaction() as tx:
        count = tx.expire_sessions(now)
        if ops is None:
            return count, []
        history = ops.on(tx)
        expired = history.expire_sessions(now)
        history.prune(keep_sessions=keep)
        return count, expired


def sweep(store: Store, run: Runner, reactor: Any, *, ops: Any = None, observer: Any = None,
          keep_sessions: int = 1000) -> Deferred[None]:
    """One run of the session sweeper; errors are logged so the timer keeps going. With
    the store's operations tables (``ops``) each expired session is named in the log
    (``observer.expired``) and the history is pruned to ``keep_sessions``."""
    now = reactor.seconds()
    d = run(_expire_sessions, store, now, ops, keep_sessions)

    def report(result: tuple[int, list]) -> None:
        count, expired = result
        for record in expired:
            if observer is not None:
                observer.expired(record, now)
        if count and not expired:
            log.info("expired {count} idle sessions", count=count)

    d.addCallback(report)
    d.addErrback(lambda f: log.failure("expiring sessions failed", f))
    return d
