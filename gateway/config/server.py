"""``[server]``, ``[[datastore]]`` and ``[[user]]``: the engine's settings and the accounts
created at start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.config import checks
from gateway.config.checks import Checker
from gateway.ds.settings import (
    AUTH_TYPES, CONFLICT_POLICIES, DEFAULT_DATASTORES, DatastoreSettings, ServerSettings,
    normalize_uri,
)

__all__ = ["BootstrapUser", "parse_server", "parse_datastores", "parse_users"]

_SERVER_KEYS = {"server_id", "auth_types", "session_timeout", "max_failed_logins",
                "failed_login_window", "max_object_size", "max_msg_size"}
_DATASTORE_KEYS = {"name", "aliases", "content_types", "conflict_policy", "merge",
                   "allow_anonymous"}
_USER_KEYS = {"name", "password"}


@dataclass(frozen=True, kw_only=True)
class BootstrapUser:
    """An account created at start when absent (an existing one is never changed)."""

    name: str
    password: str = ""

    def __repr__(self) -> str:
        return f"BootstrapUser(name={self.name!r}, password=<hidden>)"


def _content_type(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a string 'type/subtype:version'"
    ctype, sep, version = v.rpartition(":")
    if not sep or "/" not in ctype or not version.strip():
        return "must look like 'text/vcard:3.0' (media type, colon, version)"
    return None


def parse_server(c: Checker, doc: Any) -> ServerSettings:
    t = c.section(doc, "[server]", _SERVER_KEYS)
    d = ServerSettings()
    auth = t.get("auth_types", list(d.auth_types),
                 checks.list_of(checks.one_of(AUTH_TYPES), nonempty=True,
                                what="a list of strings"))
    return ServerSettings(
        server_id=t.get("server_id", d.server_id, checks.text),
        auth_types=tuple(auth),
        session_timeout=float(t.get("session_timeout", d.session_timeout, checks.seconds())),
        max_failed_logins=t.get("max_failed_logins", d.max_failed_logins, checks.integer(1)),
        failed_login_window=float(t.get("failed_login_window", d.failed_login_window,
                                        checks.seconds())),
        max_obj_size=t.get("max_object_size", d.max_obj_size, checks.integer(1024)),
        max_msg_size=t.get("max_msg_size", d.max_msg_size, checks.integer(1024)),
    )


def parse_datastores(c: Checker, doc: Any) -> tuple[DatastoreSettings, ...]:
    if doc is None:
        return DEFAULT_DATASTORES
    if not isinstance(doc, list) or not doc:
        c.problem("[[datastore]] must be one or more tables")
        return DEFAULT_DATASTORES
    result: list[DatastoreSettings] = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(doc, 1):
        where = f"[[datastore]] #{i}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            where += f" ({entry['name']})"
        t = c.section(entry, where, _DATASTORE_KEYS, prefix=where + ": ")
        t.require("name")
        name = t.get("name", "", checks.text)
        aliases = t.get("aliases", [], checks.list_of(checks.text, what="a list of strings"))
        types = t.get("content_types", ["text/plain:1.0"],
                      checks.list_of(_content_type, nonempty=True, what="a list of strings"))
        t.require("content_types")
        policy = t.get("conflict_policy", "newer-wins", checks.one_of(CONFLICT_POLICIES))
        merge = t.get("merge", True, checks.boolean)
        anonymous = t.get("allow_anonymous", False, checks.boolean)
        # Handsets name datastores loosely (``./Contacts``), so names compare normalised.
        for key in {normalize_uri(uri) for uri in [name, *aliases] if uri}:
            if key in seen:
                t.problem(f"name or alias {key!r} is already used by datastore {seen[key]!r}")
            else:
                seen[key] = name
        if not name:
            continue
        try:
            result.append(DatastoreSettings(
                name=name,
                aliases=tuple(aliases),
                content_types=tuple((kind, version) for kind, version
                                    in (ct.rsplit(":", 1) for ct in types)),
                conflict_policy=policy,
                merge=merge,
                allow_anonymous=anonymous,
            ))
        except ValueError as e:
            t.problem(str(e))
    return tuple(result)


def parse_users(c: Checker, doc: Any, *, table: str = "[[user]]") -> tuple[BootstrapUser, ...]:
    users: list[BootstrapUser] = []
    names: set[str] = set()
    for i, entry in enumerate(c.tables(doc, table), 1):
        where = f"{table} #{i}"
        t = c.section(entry, where, _USER_KEYS, prefix=where + ": ")
        t.require("name", "password")
        name = t.get("name", "", checks.text)
        password = t.get("password", "", checks.text)
        if name in names:
            t.problem(f"user {name!r} is defined twice")
        names.add(name)
        users.append(BootstrapUser(name=name, password=password))
    return tuple(users)
