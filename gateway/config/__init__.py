"""The configuration file (TOML) parsed by a pure function into typed, validated settings.

``parse_settings(doc)`` checks a parsed TOML document and returns ``Settings``; every
problem (bad type, unknown key, bad value, duplicate name) is collected, so one
``ConfigError`` lists them all before twistd daemonizes. Command-line overrides
(``--http``, ``--db``) are validated by the same function. The keys are documented in
``conf/omads-gateway.toml``.

Pure: this package imports no Twisted and nothing from ``gateway.transport`` (an
import-linter contract and tests/test_config.py check it). Each section has its parser
(``server.py``, ``notify.py``, ``obex.py``); all of them read values through the one set of
validators in ``checks.py``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gateway.config import admin as admin_section
from gateway.config import checks
from gateway.config import notify as notify_section
from gateway.config import obex as obex_section
from gateway.config.admin import AdminSettings
from gateway.config.checks import Checker
from gateway.config.endpoints import check_endpoint
from gateway.config.notify import NotifySettings
from gateway.config.obex import ObexSettings
from gateway.config.server import BootstrapUser, parse_datastores, parse_server, parse_users
from gateway.ds.settings import ServerSettings

__all__ = [
    "ConfigError", "Settings", "HTTPSettings", "StoreSettings", "BootstrapUser",
    "NotifySettings", "ObexSettings", "AdminSettings", "parse_settings", "load_settings", "check_endpoint",
]

LOG_LEVELS = ("debug", "info", "warn", "error", "critical")


class ConfigError(ValueError):
    """One or more problems in a configuration; ``problems`` lists each one."""

    def __init__(self, problems: list[str], source: str = "configuration"):
        self.problems = list(problems)
        self.source = source
        if len(problems) == 1:
            text = f"{source}: {problems[0]}"
        else:
            text = (f"{source} has {len(problems)} problems:\n"
                    + "\n".join(f"  - {p}" for p in problems))
        super().__init__(text)


@dataclass(frozen=True, kw_only=True)
class HTTPSettings:
    listen: tuple[str, ...] = ("tcp:8080:interface=127.0.0.1",)
    max_message_size: int = 1_048_576   # largest request body; larger gets 413
    threads: int = 8                    # engine thread pool size
    public_url: str | None = None       # fixed sync URL (behind a reverse proxy)


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    path: str = "./var/omads.sqlite"
    expire_interval: float = 60.0       # seconds between sweeps of expired sessions


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated configuration, one typed field per section."""

    source: str = "<defaults>"
    log_level: str = "info"
    http: HTTPSettings = HTTPSettings()
    store: StoreSettings = StoreSettings()
    server: ServerSettings = ServerSettings()
    users: tuple[BootstrapUser, ...] = ()
    obex: ObexSettings = ObexSettings()
    notify: NotifySettings = NotifySettings()
    admin: AdminSettings = AdminSettings()


_TOP_KEYS = {"log_level", "http", "store", "server", "datastore", "user", "obex", "notify",
             "admin"}
_HTTP_KEYS = {"listen", "max_message_size", "threads", "public_url"}
_STORE_KEYS = {"path", "expire_interval"}


def _parse_http(c: Checker, doc: Any, server: ServerSettings,
                listen: list[str] | tuple[str, ...] | None) -> HTTPSettings:
    h = c.section(doc, "[http]", _HTTP_KEYS)
    d = HTTPSettings()
    http_listen = h.get("listen", list(d.listen), checks.endpoint_list)
    if listen is not None:
        http_listen = list(listen)
        err = checks.endpoint_list(http_listen)
        if err is not None:
            c.problem(f"--http {err}")
    max_size = h.get("max_message_size", None, checks.integer(1024))
    if max_size is None:
        max_size = server.max_msg_size
    elif max_size < server.max_msg_size:
        h.problem(f"max_message_size ({max_size}) must be at least [server] max_msg_size "
                  f"({server.max_msg_size}), which clients are told they may send")
    return HTTPSettings(
        listen=tuple(http_listen),
        max_message_size=max_size,
        threads=h.get("threads", d.threads, checks.integer(1, 256)),
        public_url=h.get("public_url", None, checks.url),
    )


def _parse_store(c: Checker, doc: Any, store_path: str | None) -> StoreSettings:
    s = c.section(doc, "[store]", _STORE_KEYS)
    d = StoreSettings()
    path = s.get("path", d.path, checks.text)
    if store_path is not None:
        path = store_path
        if not store_path.strip():
            c.problem("--db must not be empty")
    return StoreSettings(
        path=path,
        expire_interval=float(s.get("expire_interval", d.expire_interval, checks.seconds())),
    )


def parse_settings(doc: dict[str, Any], *, source: str = "<config>",
                   listen: list[str] | tuple[str, ...] | None = None,
                   store_path: str | None = None) -> Settings:
    """Validate a parsed TOML document (plus command-line overrides: ``listen`` replaces
    ``[http] listen``, ``store_path`` replaces ``[store] path``); raise ConfigError
    listing every problem."""
    c = Checker()
    top = c.section(doc, "top level", _TOP_KEYS, prefix="")
    log_level = top.get("log_level", "info", checks.one_of(LOG_LEVELS))
    server = parse_server(c, top.raw("server", {}))
    http = _parse_http(c, top.raw("http", {}), server, listen)
    store = _parse_store(c, top.raw("store", {}), store_path)
    datastores = parse_datastores(c, top.raw("datastore"))
    users = parse_users(c, top.raw("user"))
    obex = obex_section.parse(c, top.raw("obex", {}))
    raw_notify = top.raw("notify", {})
    old_listen = raw_notify.get("admin_listen") if isinstance(raw_notify, dict) else None
    admin = admin_section.parse(c, top.raw("admin", {}), notify_listen=tuple(
        old_listen if isinstance(old_listen, list) and all(
            checks.endpoint(x) is None for x in old_listen) else ()))
    notify = notify_section.parse(c, raw_notify, admin_listen=admin.listen)
    if c.problems:
        raise ConfigError(c.problems, source)
    try:
        server = replace(server, datastores=datastores)
    except ValueError as e:   # the engine's own checks, should ours have missed one
        raise ConfigError([str(e)], source) from None
    return Settings(source=source, log_level=log_level, http=http, store=store,
                    server=server, users=users, obex=obex, notify=notify, admin=admin)


def load_settings(path: str | Path | None, *,
                  listen: list[str] | tuple[str, ...] | None = None,
                  store_path: str | None = None) -> Settings:
    """Read and validate a TOML file (``None``: the built-in defaults)."""
    if path is None:
        return parse_settings({}, source="<defaults>", listen=listen, store_path=store_path)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ConfigError([f"cannot read: {e.strerror or e}"], str(p)) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"not valid TOML: {e}"], str(p)) from None
    return parse_settings(doc, source=str(p), listen=listen, store_path=store_path)
