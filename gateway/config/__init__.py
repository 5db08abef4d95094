"""The configuration file (TOML) parsed by a pure function into typed, validated settings.

``parse_settings(doc)`` checks a parsed TOML document and returns ``Settings``; every
problem (bad type, unknown key, bad value, duplicate name) is collected, so one
``ConfigError`` lists them all before twistd daemonizes. Command-line overrides
(``--http``, ``--db``) are validated by the same function. The keys are documented in
``conf/omads-gateway.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from gateway import extensions
from gateway.ds.settings import (
    AUTH_TYPES, CONFLICT_POLICIES, DEFAULT_DATASTORES, DatastoreSettings, ServerSettings,
    normalize_uri,
)
from gateway.config.endpoints import check_endpoint

__all__ = [
    "ConfigError", "Settings", "HTTPSettings", "StoreSettings", "BootstrapUser",
    "parse_settings", "load_settings", "check_endpoint",
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
class BootstrapUser:
    """An account created at start when absent (an existing one is never changed)."""

    name: str
    password: str = ""

    def __repr__(self) -> str:
        return f"BootstrapUser(name={self.name!r}, password=<hidden>)"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated configuration."""

    source: str = "<defaults>"
    log_level: str = "info"
    http: HTTPSettings = HTTPSettings()
    store: StoreSettings = StoreSettings()
    server: ServerSettings = ServerSettings()
    users: tuple[BootstrapUser, ...] = ()
    features: dict[str, Any] = field(default_factory=dict)  # section name -> its Settings


# -- typed readers -----------------------------------------------------------------------

class _Checker:
    """Collects problems while reading one table."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def table(self, doc: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(doc, dict):
            self.problems.append(f"{where} must be a table")
            return {}
        for key in doc:
            if key not in allowed:
                self.problems.append(f"{where}: unknown key {key!r}")
        return doc

    def get(self, table: dict[str, Any], key: str, where: str, default: Any,
            check: Callable[[Any], str | None]) -> Any:
        if key not in table:
            return default
        value = table[key]
        err = check(value)
        if err is not None:
            self.problems.append(f"{where}{key} {err} (got {value!r})")
            return default
        return value


def _str(nonempty: bool = True) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return "must be a string"
        if nonempty and not v.strip():
            return "must not be empty"
        return None
    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _int(lo: int, hi: int | None = None) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return "must be an integer"
        if v < lo or (hi is not None and v > hi):
            return f"must be between {lo} and {hi}" if hi is not None else f"must be >= {lo}"
        return None
    return check


def _seconds(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "must be a number of seconds"
    return None if v > 0 else "must be > 0"


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if v not in choices:
            return "must be one of " + ", ".join(choices)
        return None
    return check


def _str_list(item: Callable[[Any], str | None] = _str(),
              nonempty: bool = True) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return "must be a list of strings"
        if nonempty and not v:
            return "must not be empty"
        for x in v:
            err = item(x)
            if err is not None:
                return f"entry {x!r} {err}"
        return None
    return check


# -- sections ------------------------------------------------------------------------------

_TOP_KEYS = {"log_level", "http", "store", "server", "datastore", "user"}  # + features
_HTTP_KEYS = {"listen", "max_message_size", "threads", "public_url"}
_STORE_KEYS = {"path", "expire_interval"}
_SERVER_KEYS = {"server_id", "auth_types", "session_timeout", "max_failed_logins",
                "failed_login_window", "max_object_size", "max_msg_size"}
_DATASTORE_KEYS = {"name", "aliases", "content_types", "conflict_policy", "merge",
                   "allow_anonymous"}
_USER_KEYS = {"name", "password"}


def _endpoint_list(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "must be a non-empty list of endpoint strings"
    for desc in v:
        err = check_endpoint(desc)
        if err is not None:
            return err
    return None


def _url(v: Any) -> str | None:
    if not isinstance(v, str) or not v.startswith(("http://", "https://")) or "?" in v:
        return "must be an absolute http:// or https:// URL without a query"
    return None


def _parse_server(c: _Checker, doc: Any) -> ServerSettings:
    t = c.table(doc, "[server]", _SERVER_KEYS)
    w = "[server] "
    d = ServerSettings()
    auth = c.get(t, "auth_types", w, list(d.auth_types), _str_list(_one_of(AUTH_TYPES)))
    return ServerSettings(
        server_id=c.get(t, "server_id", w, d.server_id, _str()),
        auth_types=tuple(auth),
        session_timeout=float(c.get(t, "session_timeout", w, d.session_timeout, _seconds)),
        max_failed_logins=c.get(t, "max_failed_logins", w, d.max_failed_logins, _int(1)),
        failed_login_window=float(c.get(t, "failed_login_window", w, d.failed_login_window,
                                        _seconds)),
        max_obj_size=c.get(t, "max_object_size", w, d.max_obj_size, _int(1024)),
        max_msg_size=c.get(t, "max_msg_size", w, d.max_msg_size, _int(1024)),
    )


def _content_type(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a string 'type/subtype:version'"
    ctype, sep, version = v.rpartition(":")
    if not sep or "/" not in ctype or not version.strip():
        return "must look like 'text/vcard:3.0' (media type, colon, version)"
    return None


def _parse_datastores(c: _Checker, doc: Any) -> tuple[DatastoreSettings, ...]:
    if doc is None:
        return DEFAULT_DATASTORES
    if not isinstance(doc, list) or not doc:
        c.problems.append("[[datastore]] must be one or more tables")
        return DEFAULT_DATASTORES
    result: list[DatastoreSettings] = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(doc, 1):
        where = f"[[datastore]] #{i}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            where += f" ({entry['name']})"
        t = c.table(entry, where, _DATASTORE_KEYS)
        w = where + ": "
        if "name" not in t:
            c.problems.append(f"{where}: name is required")
        name = c.get(t, "name", w, "", _str())
        aliases = c.get(t, "aliases", w, [], _str_list(nonempty=False))
        types = c.get(t, "content_types", w, ["text/plain:1.0"], _str_list(_content_type))
        if "content_types" not in t:
            c.problems.append(f"{where}: content_types is required")
        policy = c.get(t, "conflict_policy", w, "newer-wins", _one_of(CONFLICT_POLICIES))
        merge = c.get(t, "merge", w, True, _bool)
        anonymous = c.get(t, "allow_anonymous", w, False, _bool)
        # Handsets name datastores loosely (``./Contacts``), so names compare normalised.
        for key in {normalize_uri(uri) for uri in [name, *aliases] if uri}:
            if key in seen:
                c.problems.append(f"{where}: name or alias {key!r} is already used by "
                                  f"datastore {seen[key]!r}")
            else:
                seen[key] = name
        if not name:
            continue
        try:
            result.append(DatastoreSettings(
                name=name,
                aliases=tuple(aliases),
                content_types=tuple((t, v) for t, v in (ct.rsplit(":", 1) for ct in types)),
                conflict_policy=policy,
                merge=merge,
                allow_anonymous=anonymous,
            ))
        except ValueError as e:
            c.problems.append(f"{where}: {e}")
    return tuple(result)


def _parse_users(c: _Checker, doc: Any) -> tuple[BootstrapUser, ...]:
    if doc is None:
        return ()
    if not isinstance(doc, list):
        c.problems.append("[[user]] must be one or more tables")
        return ()
    users: list[BootstrapUser] = []
    names: set[str] = set()
    for i, entry in enumerate(doc, 1):
        where = f"[[user]] #{i}"
        t = c.table(entry, where, _USER_KEYS)
        for key in ("name", "password"):
            if key not in t:
                c.problems.append(f"{where}: {key} is required")
        name = c.get(t, "name", where + ": ", "", _str())
        password = c.get(t, "password", where + ": ", "", _str())
        if name in names:
            c.problems.append(f"{where}: user {name!r} is defined twice")
        names.add(name)
        users.append(BootstrapUser(name=name, password=password))
    return tuple(users)


def parse_settings(doc: dict[str, Any], *, source: str = "<config>",
                   listen: list[str] | tuple[str, ...] | None = None,
                   store_path: str | None = None) -> Settings:
    """Validate a parsed TOML document (plus command-line overrides: ``listen`` replaces
    ``[http] listen``, ``store_path`` replaces ``[store] path``); raise ConfigError
    listing every problem."""
    problems: list[str] = []
    c = _Checker(problems)
    feature_sections = extensions.config_sections()
    top = c.table(doc, "top level", _TOP_KEYS | set(feature_sections))
    log_level = c.get(top, "log_level", "", "info", _one_of(LOG_LEVELS))

    server = _parse_server(c, top.get("server", {}))

    h = c.table(top.get("http", {}), "[http]", _HTTP_KEYS)
    dh = HTTPSettings()
    http_listen = c.get(h, "listen", "[http] ", list(dh.listen), _endpoint_list)
    if listen is not None:
        http_listen = list(listen)
        err = _endpoint_list(http_listen)
        if err is not None:
            problems.append(f"--http {err}")
    max_size = c.get(h, "max_message_size", "[http] ", None, _int(1024))
    if max_size is None:
        max_size = server.max_msg_size
    elif max_size < server.max_msg_size:
        problems.append(f"[http] max_message_size ({max_size}) must be at least "
                        f"[server] max_msg_size ({server.max_msg_size}), which clients "
                        f"are told they may send")
    http = HTTPSettings(
        listen=tuple(http_listen),
        max_message_size=max_size,
        threads=c.get(h, "threads", "[http] ", dh.threads, _int(1, 256)),
        public_url=c.get(h, "public_url", "[http] ", None, _url),
    )

    s = c.table(top.get("store", {}), "[store]", _STORE_KEYS)
    ds = StoreSettings()
    path = c.get(s, "path", "[store] ", ds.path, _str())
    if store_path is not None:
        path = store_path
        if not store_path.strip():
            problems.append("--db must not be empty")
    store = StoreSettings(
        path=path,
        expire_interval=float(c.get(s, "expire_interval", "[store] ", ds.expire_interval,
                                    _seconds)),
    )

    datastores = _parse_datastores(c, top.get("datastore"))
    users = _parse_users(c, top.get("user"))
    features = {name: mod.parse(c, top.get(name, {})) for name, mod in feature_sections.items()}
    if problems:
        raise ConfigError(problems, source)
    try:
        server = replace(server, datastores=datastores)
    except ValueError as e:   # the engine's own checks, should ours have missed one
        raise ConfigError([str(e)], source) from None
    return Settings(source=source, log_level=log_level, http=http, store=store,
                    server=server, users=users, features=features)


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
