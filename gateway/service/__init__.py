"""twistd glue: ``Options`` and ``makeService``, which only composes the service tree.

config -> store (+ bootstrap users) -> engine -> thread pool -> session expiry -> HTTP
listeners, each a named child of one ``MultiService``. Children start in that order and
stop in reverse, each waiting for the previous one: listeners close first, the store last.
A bad configuration raises ``usage.UsageError`` listing every problem, so twistd prints
it and exits non-zero before it daemonizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService, TimerService
from twisted.internet.defer import Deferred, inlineCallbacks, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from gateway import extensions
from gateway.config import BootstrapUser, ConfigError, Settings, load_settings
from gateway.ds.server.handler import SyncServer
from gateway.store.accounts import make_secret
from gateway.store.base import Account, Store, StoreError
from gateway.transport import logs
from gateway.transport.http import make_site
from gateway.transport.pool import Runner, SessionSerializer, ThreadPoolService, thread_runner

log = logs.get_logger("gateway.service")


class Options(usage.Options):
    """``twistd omads-gateway [--config PATH] [--http ENDPOINT ...] [--db PATH]``."""

    synopsis = "[--config PATH] [--http ENDPOINT ...] [--db PATH]"
    optParameters = [
        ["config", "c", None,
         "TOML configuration file (default: built-in defaults, no file)."],
        ["db", None, None, "SQLite database file; overrides [store] path."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["http"] = []
        self.settings: Settings | None = None

    def opt_http(self, endpoint: str) -> None:
        """HTTP listener endpoint, e.g. tcp:8080:interface=127.0.0.1 (repeatable; replaces
        [http] listen)."""
        self["http"].append(endpoint)

    def postOptions(self) -> None:
        try:
            self.settings = load_settings(self["config"], listen=self["http"] or None,
                                          store_path=self["db"])
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None


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


def _expire_sessions(store: Store, now: float) -> int:
    with store.transaction() as tx:
        return tx.expire_sessions(now)


def _sweep(store: Store, run: Runner, reactor: Any) -> Deferred[None]:
    """One run of the session sweeper; errors are logged so the timer keeps going."""
    d = run(_expire_sessions, store, reactor.seconds())

    def report(count: int) -> None:
        if count:
            log.info("expired {count} idle sessions", count=count)

    d.addCallback(report)
    d.addErrback(lambda f: log.failure("expiring sessions failed", f))
    return d


def _engine_logger(reactor: Any) -> Callable[..., None]:
    """The engine's ``log(event, **fields)``: called on worker threads, so each event is
    handed to the reactor thread before it reaches the log observers."""
    elog = logs.get_logger("gateway.ds")

    def emit(event: str, **fields: Any) -> None:
        fmt = "{event}" + "".join(f" {key}={{{key}}}" for key in fields
                                  if key.isidentifier() and not key.startswith("log_"))
        reactor.callFromThread(elog.info, fmt, event=event, **fields)

    return emit


def build_service(settings: Settings, *, reactor: Any, store: Store,
                  engine: Any = None) -> service.MultiService:
    """The service tree for validated settings and an open store. Raises ConfigError if a
    listener endpoint cannot be built (e.g. a TLS key file is missing)."""
    top = OrderedMultiService()
    LogLevelService(settings.log_level).setServiceParent(top)
    StoreService(store).setServiceParent(top)
    if engine is None:
        engine = SyncServer(settings.server, store, log=_engine_logger(reactor))
    pool = ThreadPoolService(settings.http.threads)
    pool.setServiceParent(top)
    run = thread_runner(reactor, pool.pool)
    expiry = TimerService(settings.store.expire_interval, _sweep, store, run, reactor)
    expiry.clock = reactor
    expiry.setName("session-expiry")
    expiry.setServiceParent(top)
    site = make_site(engine, reactor=reactor, serializer=SessionSerializer(run),
                     max_message_size=settings.http.max_message_size,
                     datastores=settings.server.datastores,
                     public_url=settings.http.public_url)
    problems = []
    for i, desc in enumerate(settings.http.listen):
        try:
            endpoint = serverFromString(reactor, desc)
        except Exception as e:   # the parsers raise ValueError, KeyError, OSError, SSL errors
            problems.append(f"endpoint {desc!r}: {type(e).__name__}: {e}")
            continue
        listener = StreamServerEndpointService(endpoint, site)
        listener._raiseSynchronously = True  # a port we cannot bind stops twistd at start
        listener.setName(f"http-{i}")
        listener.setServiceParent(top)
    if problems:
        raise ConfigError(problems, "[http] listen")
    for feature in extensions.modules():
        for svc in feature.make_services(settings, reactor=reactor, store=store,
                                         engine=engine, run=run):
            svc.setServiceParent(top)
    return top


def makeService(options: Options) -> service.MultiService:
    from twisted.internet import reactor

    settings = options.settings
    if settings is None:   # Options not parsed through postOptions
        options.postOptions()
        settings = options.settings
    assert settings is not None
    store = None
    try:
        store = open_store(settings.store.path)
        created = bootstrap_users(store, settings.users)
        tree = build_service(settings, reactor=reactor, store=store)
    except (ConfigError, StoreError) as e:
        if store is not None:
            store.close()
        raise usage.UsageError(str(e)) from None
    log.info("omads-gateway configured from {source}: store {path}, listening on {listen}",
             source=settings.source, path=settings.store.path,
             listen=", ".join(settings.http.listen))
    if created:
        log.info("created bootstrap accounts: {users}", users=", ".join(created))
    return tree
