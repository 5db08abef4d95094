"""Profiles of ``omads-sync`` (TOML) and the one-off options, as one ``Profile`` value.

    [profile.work]
    url = "https://sync.example.org/sync"     # or obex = "tcp:HOST:PORT" / "serial:/dev/ttyUSB0"
    user = "alice"
    password = "secret"                        # or password_env = "VAR"
    auth = "md5"                               # md5 | basic | hmac (HTTP only) | none
    encoding = "wbxml"                         # wbxml | xml
    device_id = "laptop-1"
    ca_file = "/etc/ssl/my-ca.pem"             # HTTPS: trust only this CA
    max_msg_size = 150000
    state = "~/.local/state/omads-sync/work.json"

    [[profile.work.datastore]]
    remote = "contacts"                        # the server's datastore
    store = "~/Contacts"                       # a folder, or "sqlite:~/contacts.db"
    type = "text/vcard"                        # text/vcard, text/calendar, text/plain ...
    mode = "two-way"

    [profile.work.notify]                      # for `omads-sync listen`
    server_id = "omads-gateway"
    server_password = "..."                    # checks the SAN: 1.2 digest key, 1.1 Cred
    nonce = ""                                 # base64 of the SAN digest nonce (the
                                               # gateway's [[notify.device]] nonce is text)
    udp = "127.0.0.1:2948"                     # WDP/UDP listener
    sip = "127.0.0.1:5060"                     # SIP MESSAGE listener
    modem = "/dev/ttyUSB0"                     # GSM modem (SMS)
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gateway.ds.auth import BASIC, MD5
from gateway.ds.client.errors import ConfigError
from gateway.ds.client.settings import MODE_NAMES, ClientSettings, DatastoreConfig
from gateway.ds.hmac import MAC
from gateway.syncml import codec

ENCODINGS = {"wbxml": codec.WBXML, "xml": codec.XML}
AUTHS = {"md5": MD5, "basic": BASIC, "hmac": MAC, "none": ""}
VERSIONS = {"text/vcard": "3.0", "text/x-vcard": "2.1", "text/calendar": "2.0",
            "text/x-vcalendar": "1.0", "text/plain": "1.0", "text/x-vnote": "1.1"}
LOCAL_NAMES = {"text/vcard": "contacts", "text/x-vcard": "contacts",
               "text/calendar": "calendar", "text/x-vcalendar": "calendar",
               "text/plain": "notes", "text/x-vnote": "notes"}


@dataclass(frozen=True, kw_only=True)
class StoreSpec:
    kind: str                           # "folder" or "sqlite"
    path: Path


@dataclass(frozen=True, kw_only=True)
class NotifySpec:
    server_id: str = ""
    server_password: str = ""
    nonce: str = ""
    udp: str | None = None
    sip: str | None = None
    modem: str | None = None


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    settings: ClientSettings
    stores: dict[str, StoreSpec]        # by local URI
    state: Path
    ca_file: str | None = None
    obex: str | None = None             # "tcp:HOST:PORT" or "serial:DEVICE[:AT-COMMAND]"
    notify: NotifySpec = field(default_factory=NotifySpec)


def store_spec(text: str) -> StoreSpec:
    if text.startswith("sqlite:"):
        return StoreSpec(kind="sqlite", path=Path(text[7:]).expanduser())
    return StoreSpec(kind="folder", path=Path(text.removeprefix("folder:")).expanduser())


def _mode(name: str) -> int:
    try:
        return MODE_NAMES[name]
    except KeyError:
        raise ConfigError(f"unknown mode {name!r}; one of {', '.join(MODE_NAMES)}") from None


def _choice(table: dict, value: str, what: str):
    try:
        return table[value.lower()]
    except KeyError:
        raise ConfigError(f"unknown {what} {value!r}; one of {', '.join(table)}") from None


def default_state(stores: dict[str, StoreSpec], name: str) -> Path:
    first = next(iter(stores.values()))
    if first.kind == "folder":
        return first.path / ".omads-sync" / f"state-{name}.json"
    return first.path.with_name(first.path.name + f".{name}.state.json")


def build(name: str, raw: dict, *, mode: str | None = None) -> Profile:
    known = {"url", "obex", "user", "password", "password_env", "auth", "encoding", "device_id",
             "ca_file", "max_msg_size", "max_obj_size", "state", "datastore", "notify"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"profile {name}: unknown keys {', '.join(sorted(unknown))}")
    if not raw.get("url") and not raw.get("obex"):
        raise ConfigError(f"profile {name}: needs url (or obex)")
    password = raw.get("password", "")
    if raw.get("password_env"):
        password = os.environ.get(raw["password_env"], "")
    datastores, stores = [], {}
    for ds in raw.get("datastore", []):
        if "store" not in ds or "remote" not in ds:
            raise ConfigError(f"profile {name}: each datastore needs remote and store")
        ct = ds.get("type", "text/vcard")
        local = ds.get("local") or "./" + LOCAL_NAMES.get(ct.lower(), ds["remote"])
        datastores.append(DatastoreConfig(local_uri=local, remote_uri=ds["remote"],
                                          content_type=ct,
                                          version=ds.get("version", VERSIONS.get(ct, "1.0")),
                                          mode=_mode(mode or ds.get("mode", "two-way"))))
        stores[local] = store_spec(ds["store"])
    if not datastores:
        raise ConfigError(f"profile {name}: no [[datastore]]")
    try:
        settings = ClientSettings(
            url=raw.get("url") or f"obex://{raw['obex']}", username=raw.get("user", ""),
            password=password, auth_type=_choice(AUTHS, raw.get("auth", "md5"), "auth type"),
            device_id=raw.get("device_id", f"omads-sync-{name}"),
            encoding=_choice(ENCODINGS, raw.get("encoding", "wbxml"), "encoding"),
            max_msg_size=int(raw.get("max_msg_size", 150_000)),
            max_obj_size=int(raw.get("max_obj_size", 4_000_000)),
            datastores=tuple(datastores))
    except ValueError as exc:
        raise ConfigError(f"profile {name}: {exc}") from None
    notify = NotifySpec(**raw.get("notify", {})) if raw.get("notify") else NotifySpec()
    try:
        base64.b64decode(notify.nonce, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"profile {name}: notify nonce {notify.nonce!r} is not base64 "
                          "(write the base64 of the gateway's nonce text)") from None
    state = Path(raw["state"]).expanduser() if raw.get("state") else default_state(stores, name)
    return Profile(name=name, settings=settings, stores=stores, state=state,
                   ca_file=raw.get("ca_file"), obex=raw.get("obex"), notify=notify)


def load(path: Path | str, name: str, *, mode: str | None = None) -> Profile:
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such profile file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    profiles = doc.get("profile", {})
    if name not in profiles:
        raise ConfigError(f"{path}: no profile {name!r} (have: {', '.join(profiles) or 'none'})")
    try:
        return build(name, profiles[name], mode=mode)
    except TypeError as exc:
        raise ConfigError(f"profile {name}: {exc}") from None


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "omads-sync" / "profiles.toml"
