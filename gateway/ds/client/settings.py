"""Settings of the Data Sync client engine: who we are, where we sync, which datastores.

``ClientSettings`` is what one ``omads-sync`` run needs at the protocol level; the CLI
builds it from a profile or from options. Modes are the alert codes of
omads-protocol.md §3.1 (AlertCode 200..205); ``MODE_NAMES`` maps the command-line spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.ds.auth import BASIC, MD5
from gateway.ds.hmac import MAC
from gateway.syncml import codec
from gateway.syncml.codes import AlertCode

# omads-protocol.md §3.1: client-initiated sync alert codes.
MODE_NAMES = {name: int(code) for name, code in (
    ("two-way", AlertCode.TWO_WAY), ("slow", AlertCode.SLOW_SYNC),
    ("one-way-from-client", AlertCode.ONE_WAY_FROM_CLIENT),
    ("refresh-from-client", AlertCode.REFRESH_FROM_CLIENT),
    ("one-way-from-server", AlertCode.ONE_WAY_FROM_SERVER),
    ("refresh-from-server", AlertCode.REFRESH_FROM_SERVER))}
MODE_LABELS = {v: k for k, v in MODE_NAMES.items()}
AUTH_NAMES = {"basic": BASIC, "md5": MD5, "hmac": MAC}

CONTENT_TYPES = {  # datastore kind -> (CTType, VerCT) we send and prefer
    "vcard": ("text/vcard", "3.0"), "vcard21": ("text/x-vcard", "2.1"),
    "ical": ("text/calendar", "2.0"), "vcal": ("text/x-vcalendar", "1.0"),
    "note": ("text/plain", "1.0"),
}


def carries_headers(url: str) -> bool:
    """Whether the link to ``url`` can carry the auth-MAC header (HTTP only here)."""
    return url.lower().startswith(("http://", "https://"))


@dataclass(frozen=True, kw_only=True)
class DatastoreConfig:
    """One local datastore and the server datastore it syncs with."""

    local_uri: str                      # our LocURI (Source of our Sync)
    remote_uri: str                     # the server's LocURI (Target of our Sync)
    content_type: str = "text/vcard"
    version: str = "3.0"
    mode: int = int(AlertCode.TWO_WAY)  # the mode we ask for


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    url: str
    username: str = ""
    password: str = ""
    auth_type: str = MD5                # syncml:auth-basic / -md5 / -MAC; "" = none
    device_id: str = "omads-sync"
    encoding: str = codec.WBXML         # codec.XML or codec.WBXML
    max_msg_size: int = 150_000         # what we can receive
    max_obj_size: int = 4_000_000
    datastores: tuple[DatastoreConfig, ...] = ()
    ver_dtd: str = "1.2"
    max_auth_retries: int = 2
    max_messages: int = 10_000          # a runaway-session guard

    def __post_init__(self) -> None:
        if self.encoding not in (codec.XML, codec.WBXML):
            raise ValueError(f"unknown encoding {self.encoding!r}")
        if self.auth_type not in ("", BASIC, MD5, MAC):
            raise ValueError(f"unknown auth type {self.auth_type!r}")
        if self.auth_type == MAC and not carries_headers(self.url):
            raise ValueError("auth type hmac (syncml:auth-MAC) needs an http(s) URL")
        for ds in self.datastores:
            if ds.mode not in MODE_LABELS:
                raise ValueError(f"unknown sync mode {ds.mode!r}")
