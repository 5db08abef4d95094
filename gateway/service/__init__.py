"""twistd glue: ``Options`` and ``makeService``, which only composes the service tree.

config -> store (+ bootstrap users and admins) -> engine (with its observer: log lines
and metrics, and its journal: the session history) -> thread pool -> session expiry ->
HTTP listeners -> OBEX listeners -> notification service -> admin snapshot and the admin
listener (web pages, /metrics, /notify), each a named child of one ``GatewayService``,
composed below in that order with plain imports. Children start in that order and stop
in reverse, each waiting for the previous one: listeners close first, the store last. A
bad configuration, a store that cannot be opened or a listener that cannot be built (a
missing TLS file) ends the start with one line and exit status 1 before twistd
daemonizes; a port that cannot be bound, with one log line and exit status 1.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service
from twisted.application.internet import TimerService
from twisted.logger import globalLogPublisher
from twisted.python import usage

from gateway.config import ConfigError, Settings, load_settings
from gateway.ds.server.handler import SyncServer
from gateway.ds.server.journal import Journal
from gateway.service.admin import admin_services, bootstrap_admins
from gateway.service.metrics import Metrics, TimedEngine
from gateway.service.notify import notify_service
from gateway.service.obex import obex_listeners
from gateway.service.observe import Observer, notify_observer
from gateway.service.tree import (
    GatewayService, LogLevelService, OrderedMultiService, StoreService, bootstrap_users,
    open_store, sweep,
)
from gateway.store.base import Store, StoreError
from gateway.store.ops import ops_store
from gateway.transport import logs
from gateway.transport.http import make_site
from gateway.transport.listen import listeners
from gateway.transport.pool import SessionSerializer, ThreadPoolService, thread_runner

__all__ = ["Options", "makeService", "build_service", "GatewayService", "OrderedMultiService",
           "StoreService", "bootstrap_users", "open_store", "sweep"]

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
            refuse(self, str(e))


def refuse(options: usage.Options, problem: str) -> None:
    """A start that cannot go on. Under twistd (the options have a parent) the problem
    is printed alone, not after twistd's whole usage text, and the exit status is 1;
    elsewhere it is a ``usage.UsageError``."""
    if getattr(options, "parent", None) is not None:
        sys.stderr.write(f"omads-gateway: {problem}\n")
        sys.stderr.flush()
        raise SystemExit(1)
    raise usage.UsageError(problem)


def history_of(store: Store) -> Any:
    """The store's operations tables (schema ensured), or None if it keeps none."""
    try:
        ops = ops_store(store)
    except StoreError:
        return None
    ops.ensure_schema()
    return ops


class _MetricsService(service.Service):
    """Counts the notification service's outcomes while running (a log observer)."""

    name = "metrics"

    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self._observer = notify_observer(metrics)

    def startService(self) -> None:
        super().startService()
        globalLogPublisher.addObserver(self._observer)

    def stopService(self) -> None:
        super().stopService()
        globalLogPublisher.removeObserver(self._observer)


def build_service(settings: Settings, *, reactor: Any, store: Store,
                  engine: Any = None, metrics: Metrics | None = None) -> GatewayService:
    """The service tree for validated settings and an open store. Raises ConfigError if a
    listener endpoint cannot be built (e.g. a TLS key file is missing)."""
    top = GatewayService()

    def add(*children: service.IService) -> None:
        for child in children:
            child.setServiceParent(top)

    metrics = metrics or Metrics(datastores=settings.server.datastores)
    observer = Observer(reactor, metrics)
    ops = history_of(store)
    add(LogLevelService(settings.log_level), StoreService(store), _MetricsService(metrics))
    if engine is None:
        a = settings.admin
        journal = (Journal(ops=ops.on, trace_max_messages=a.trace_max_messages,
                           trace_max_bytes=a.trace_max_bytes) if ops is not None else None)
        engine = SyncServer(settings.server, store, log=observer.emit, journal=journal)
    engine = TimedEngine(engine, metrics)
    pool = ThreadPoolService(settings.http.threads)
    run = thread_runner(reactor, pool.pool)
    expiry = TimerService(settings.store.expire_interval, sweep, store, run, reactor, ops=ops,
                          observer=observer, keep_sessions=settings.admin.keep_sessions)
    expiry.clock = reactor
    expiry.setName("session-expiry")
    add(pool, expiry)
    site = make_site(engine, reactor=reactor, serializer=SessionSerializer(run),
                     max_message_size=settings.http.max_message_size,
                     datastores=settings.server.datastores,
                     public_url=settings.http.public_url)
    add(*listeners(reactor, settings.http.listen, site, prefix="http", where="[http] listen"))
    add(*obex_listeners(settings, reactor=reactor, engine=engine, run=run))
    notify = notify_service(settings, reactor=reactor, store=store, run=run)
    if notify is not None:
        add(notify)
    add(*admin_services(settings, reactor=reactor, store=store, ops=ops, run=run,
                        notify=notify, metrics=metrics, tree=top))
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
        ops = history_of(store)
        admins = bootstrap_admins(ops, settings.admin.users) if ops is not None else []
    except (ConfigError, StoreError) as e:
        if store is not None:
            store.close()
        refuse(options, str(e))
    log.info("omads-gateway configured from {source}: store {path}, listening on {listen}",
             source=settings.source, path=settings.store.path,
             listen=", ".join(settings.http.listen))
    if settings.admin.listen:
        log.info("admin pages, /metrics and /notify on {listen}",
                 listen=", ".join(settings.admin.listen))
    if created:
        log.info("created bootstrap accounts: {users}", users=", ".join(created))
    if admins:
        log.warn("created bootstrap admin accounts: {users}; change their passwords "
                 "(omads-admin admin passwd NAME) before anyone else can reach the admin "
                 "listener", users=", ".join(admins))
    return tree
