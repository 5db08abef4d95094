"""twistd glue: ``Options`` and ``makeService``, which only composes the service tree.

config -> store (+ bootstrap users) -> engine -> thread pool -> session expiry -> HTTP
listeners -> OBEX listeners -> notification service (+ its admin listeners), each a named
child of one ``GatewayService``, composed below in that order with plain imports. Children
start in that order and stop in reverse, each waiting for the previous one: listeners close
first, the store last. A bad configuration raises ``usage.UsageError`` listing every
problem, so twistd prints it and exits non-zero before it daemonizes; a port that cannot
be bound ends the start with one log line and exit status 1.
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.application.internet import TimerService
from twisted.python import usage

from gateway.config import ConfigError, Settings, load_settings
from gateway.ds.server.handler import SyncServer
from gateway.service.notify import notify_services
from gateway.service.obex import obex_listeners
from gateway.service.tree import (
    GatewayService, LogLevelService, OrderedMultiService, StoreService, bootstrap_users,
    engine_logger, open_store, sweep,
)
from gateway.store.base import Store, StoreError
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
            raise usage.UsageError(str(e)) from None


def build_service(settings: Settings, *, reactor: Any, store: Store,
                  engine: Any = None) -> GatewayService:
    """The service tree for validated settings and an open store. Raises ConfigError if a
    listener endpoint cannot be built (e.g. a TLS key file is missing)."""
    top = GatewayService()

    def add(*children: service.IService) -> None:
        for child in children:
            child.setServiceParent(top)

    add(LogLevelService(settings.log_level), StoreService(store))
    if engine is None:
        engine = SyncServer(settings.server, store, log=engine_logger(reactor))
    pool = ThreadPoolService(settings.http.threads)
    run = thread_runner(reactor, pool.pool)
    expiry = TimerService(settings.store.expire_interval, sweep, store, run, reactor)
    expiry.clock = reactor
    expiry.setName("session-expiry")
    add(pool, expiry)
    site = make_site(engine, reactor=reactor, serializer=SessionSerializer(run),
                     max_message_size=settings.http.max_message_size,
                     datastores=settings.server.datastores,
                     public_url=settings.http.public_url)
    add(*listeners(reactor, settings.http.listen, site, prefix="http", where="[http] listen"))
    add(*obex_listeners(settings, reactor=reactor, engine=engine, run=run))
    add(*notify_services(settings, reactor=reactor, store=store, run=run))
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
