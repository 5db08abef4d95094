"""Settings of the Data Sync server engine (the contract in notes/engine-api.md).

``DatastoreSettings.content_types`` lists (CTType, VerCT) pairs; the first is the type we
prefer to send. Names and aliases are matched case-insensitively, without a leading
``./`` and without a ``?query`` (omads-protocol.md §8.2: handsets spell datastore URIs
differently: ``Contacts``, ``Contact``, ``./contacts``...). The query is the client's
filter (``alerts.alert_filters``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.syncml.tree import DEFAULT_LIMITS, DecodeLimits

CONFLICT_POLICIES = ("server-wins", "client-wins", "newer-wins", "duplicate", "merge")
# omads-protocol.md §3.5 / §4.1; auth-MAC travels in the HTTP header x-syncml-hmac.
AUTH_TYPES = ("syncml:auth-md5", "syncml:auth-basic", "syncml:auth-MAC")


@dataclass(frozen=True, kw_only=True)
class DatastoreSettings:
    name: str
    aliases: tuple[str, ...] = ()
    content_types: tuple[tuple[str, str], ...] = ()
    conflict_policy: str = "newer-wins"
    merge: bool = True
    allow_anonymous: bool = False

    def __post_init__(self) -> None:
        if self.conflict_policy not in CONFLICT_POLICIES:
            raise ValueError(f"unknown conflict policy {self.conflict_policy!r}; "
                             f"expected one of {', '.join(CONFLICT_POLICIES)}")
        if not self.name:
            raise ValueError("a datastore needs a name")

    def matches(self, uri: str) -> bool:
        key = normalize_uri(uri)
        return key == normalize_uri(self.name) or key in {normalize_uri(a) for a in self.aliases}

    def accepts(self, ct_type: str) -> bool:
        ct = ct_type.split(";", 1)[0].strip().lower()
        return not self.content_types or any(ct == t.lower() for t, _ in self.content_types)


def normalize_uri(uri: str) -> str:
    """``./Contacts?filter`` -> ``contacts``; a full URL keeps its last path segment."""
    u = uri.strip().split("?", 1)[0].rstrip("/")
    if "://" in u:
        u = u.rsplit("/", 1)[-1]
    while u.startswith("./"):
        u = u[2:]
    return u.lstrip("/").lower()


VCARD = (("text/vcard", "3.0"), ("text/x-vcard", "2.1"))
ICAL = (("text/calendar", "2.0"), ("text/x-vcalendar", "1.0"))
NOTE = (("text/plain", "1.0"), ("text/x-vnote", "1.1"))

DEFAULT_DATASTORES: tuple[DatastoreSettings, ...] = (
    DatastoreSettings(name="contacts", aliases=("addressbook", "card", "contact", "./contacts"),
                      content_types=VCARD),
    DatastoreSettings(name="calendar", aliases=("events", "cal", "event"), content_types=ICAL),
    DatastoreSettings(name="tasks", aliases=("todo", "task"), content_types=ICAL),
    DatastoreSettings(name="notes", aliases=("memo", "note"), content_types=NOTE),
)


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    datastores: tuple[DatastoreSettings, ...] = DEFAULT_DATASTORES
    server_id: str = "omads-gateway"
    auth_types: tuple[str, ...] = ("syncml:auth-md5", "syncml:auth-basic")
    max_msg_size: int = 1_048_576
    max_obj_size: int = 16_777_216
    session_timeout: float = 900.0
    max_failed_logins: int = 5
    failed_login_window: float = 300.0
    limits: DecodeLimits = DEFAULT_LIMITS
    # What we assume when a client sends no MaxMsgSize (omads-protocol.md §3.6).
    default_peer_max_msg_size: int = 1_048_576
    # Smallest MaxMsgSize we honour (SyncEvolution raises anything lower to 10240 too).
    min_peer_max_msg_size: int = 1024

    def __post_init__(self) -> None:
        names = [normalize_uri(d.name) for d in self.datastores]
        if len(set(names)) != len(names):
            raise ValueError("datastore names must be unique")
        unknown = [a for a in self.auth_types if a not in AUTH_TYPES]
        if unknown:
            raise ValueError(f"unsupported auth types: {', '.join(unknown)}")

    def datastore(self, uri: str | None) -> DatastoreSettings | None:
        """The datastore a LocURI names, or None."""
        if not uri:
            return None
        for ds in self.datastores:
            if ds.matches(uri):
                return ds
        return None
