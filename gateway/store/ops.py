"""What the operator sees of the gateway's work: sessions, datastore results, messages,
redacted traces, and the admin accounts of the web pages; values and the operations a
driver offers.

The engine writes a session's row, its messages and its datastore results inside the
transaction of each SyncML message (gateway/ds/server/handler.py), so what the pages and
``omads-admin device show`` read is what the store committed. Rows are kept for a bounded
number of sessions (``prune``); a trace is recorded only for a device whose trace is
switched on, until the time given, and only in redacted form.

A store driver offers these tables as ``store.operations()`` (gateway/store/sqlite/ops.py
for SQLite); ``ops_store(store)`` asks for them. Admin passwords are kept as PBKDF2
hashes (``hash_password``), never in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.store.base import StoreError, StoreTransaction

__all__ = [
    "LIVE", "OK", "PARTIAL", "ERROR", "AUTH_FAILED", "EXPIRED", "SessionRecord",
    "DatastoreRecord", "MessageRecord", "TraceEntry", "AdminAccount", "OpsLog", "OpsStore",
    "ops_store", "hash_password", "check_password", "short_key",
]

# Session states: live while it runs, then how it ended.
LIVE, OK, PARTIAL, ERROR, AUTH_FAILED, EXPIRED = (
    "live", "ok", "partial", "error", "auth_failed", "expired")

PBKDF2_ROUNDS = 200_000


def short_key(key: str | None) -> str:
    """The part of a session key a log line or a page may show: 6 characters and '…'
    (our keys have 24; a text of 8 or fewer is no key of ours and stays as it is)."""
    if not key:
        return "-"
    return key if len(key) <= 8 else key[:6] + "…"


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    """One sync session as the operator sees it. ``key`` is the session key (never shown
    in full: ``short_key``); ``id`` is the row's number, used in page links."""

    key: str
    device_id: str
    username: str | None = None
    peer: str = ""
    transport: str = "http"
    version: str = "1.2"
    encoding: str = ""
    started: float = 0.0
    updated: float = 0.0
    expires: float = 0.0
    state: str = LIVE
    messages: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    detail: str = ""            # why it failed (a login refused: the reason)
    id: int = 0

    @property
    def duration(self) -> float:
        return max(0.0, self.updated - self.started)


@dataclass(frozen=True, kw_only=True)
class DatastoreRecord:
    """The result of one datastore's sync in one session. ``counts``: the engine's tallies
    (gateway/ds/server/report.py): ``in.add``, ``out.delete``, ``refused_in.415``,
    ``conflict.server-won``, ``bytes_in`` ..."""

    session_key: str
    device_id: str
    username: str
    datastore: str
    mode: int
    slow_reason: str | None = None
    result: str = OK
    started: float = 0.0
    finished: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return max(0.0, self.finished - self.started)


@dataclass(frozen=True, kw_only=True)
class MessageRecord:
    """One client message of a session and our reply: sizes, encoding, status codes."""

    session_key: str
    seq: int
    msg_id: str
    at: float
    bytes_in: int
    bytes_out: int
    encoding: str
    codes_in: tuple[int, ...] = ()     # the client's Status codes
    codes_out: tuple[int, ...] = ()    # ours
    resent: bool = False


@dataclass(frozen=True, kw_only=True)
class TraceEntry:
    """One message of a traced session, redacted (gateway/syncml/redact.py)."""

    session_key: str
    seq: int
    at: float
    direction: str              # "in" (from the client) or "out"
    text: str
    truncated: bool = False


@dataclass(frozen=True, kw_only=True)
class AdminAccount:
    """An account of the admin web pages; ``secret`` is ``hash_password``'s output."""

    name: str
    secret: str
    enabled: bool = True
    created: float = 0.0

    def __repr__(self) -> str:
        return f"AdminAccount(name={self.name!r}, secret=<hidden>, enabled={self.enabled})"


def hash_password(password: str, *, salt: bytes | None = None,
                  rounds: int = PBKDF2_ROUNDS) -> str:
    """``pbkdf2-sha256$ROUNDS$SALT$HASH`` (salt and hash in base64)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
    return "$".join(("pbkdf2-sha256", str(rounds), base64.b64encode(salt).decode("ascii"),
                     base64.b64encode(digest).decode("ascii")))


def check_password(secret: str, password: str) -> bool:
    """Whether ``password`` matches a ``hash_password`` secret (constant time)."""
    try:
        scheme, rounds, salt, want = secret.split("$")
        if scheme != "pbkdf2-sha256":
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"),
                                  base64.b64decode(salt), int(rounds))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(want))


class OpsLog(Protocol):
    """The operations, inside one store transaction."""

    # -- sessions, messages, datastore results ------------------------------------------
    def put_session(self, record: SessionRecord) -> None:
        """Insert or update the row of ``record.key``."""
    def get_session(self, session_id: int) -> SessionRecord | None: ...
    def session_by_key(self, key: str) -> SessionRecord | None: ...
    def list_sessions(self, *, device_id: str | None = None, live: bool | None = None,
                      limit: int = 50) -> list[SessionRecord]:
        """Newest first."""
    def expire_sessions(self, now: float) -> list[SessionRecord]:
        """Live sessions whose ``expires`` is before ``now`` become ``expired``; those."""
    def add_message(self, record: MessageRecord) -> None: ...
    def list_messages(self, session_key: str, *, limit: int = 500) -> list[MessageRecord]: ...
    def put_result(self, record: DatastoreRecord) -> None: ...
    def last_results(self, device_id: str) -> list[DatastoreRecord]:
        """The newest result of each of the device's datastores."""
    def session_results(self, session_key: str) -> list[DatastoreRecord]: ...
    def prune(self, *, keep_sessions: int) -> int:
        """Drop all but the newest ``keep_sessions`` finished sessions (with their
        messages, results and traces); how many went."""

    def counts(self) -> dict[str, int]:
        """For the background snapshot: ``sessions.live``, ``devices``, ``users`` and
        ``queue.<state>`` (notifications by state)."""

    # -- traces --------------------------------------------------------------------------
    def set_trace(self, device_id: str, until: float | None) -> None:
        """Record the device's messages, redacted, until ``until`` (None: stop)."""
    def trace_until(self, device_id: str) -> float | None: ...
    def traced_devices(self, now: float) -> dict[str, float]:
        """Devices traced at ``now``, with the time their trace ends."""
    def add_trace(self, entry: TraceEntry, *, max_entries: int) -> bool:
        """Keep one redacted message (False once the session has ``max_entries``)."""
    def list_traces(self, session_key: str) -> list[TraceEntry]: ...

    # -- admin accounts -----------------------------------------------------------------
    def get_admin(self, name: str) -> AdminAccount | None: ...
    def put_admin(self, account: AdminAccount) -> None: ...
    def remove_admin(self, name: str) -> bool: ...
    def list_admins(self) -> list[AdminAccount]: ...


class OpsStore(Protocol):
    """A store's operations tables: their schema, and transactions holding both the
    store's operations and these (they commit or roll back together)."""

    def ensure_schema(self) -> int: ...
    def transaction(self) -> AbstractContextManager[tuple[StoreTransaction, OpsLog]]: ...
    def on(self, tx: StoreTransaction) -> OpsLog:
        """These operations on an open store transaction."""


def ops_store(store: Any) -> OpsStore:
    """The operations tables kept in ``store``'s database (StoreError if it has none)."""
    offer = getattr(store, "operations", None)
    if offer is None:
        raise StoreError(f"{type(store).__name__} keeps no session history")
    return offer()
