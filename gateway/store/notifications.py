"""The persistent notification queue: its values and the operations a driver offers.

A ``Notification`` asks the gateway to alert one device (a SAN, package 0) about some of
its datastores (``()``: all). It lives in the database so that every node sharing it sees
the same queue: a node *claims* due rows with a lease, sends, and records the outcome.
States: ``queued`` -> ``sent`` (a carrier accepted it) -> ``delivered`` (the carrier said
the handset got it), or ``failed`` with a reason once the retries are used up. A send
that asked for SMS delivery reports (``report_parts`` > 0) stays ``sent`` until they settle
it: ``delivered`` when every part was delivered, ``failed`` (or queued again while retries
are left) when one was not; ``report`` and ``report_time`` hold the reports' text and time.
With no final report within the timeout it stays ``sent`` (never re-sent: the SMS may
have arrived) and ``report`` says so; a later report still settles it.
A device's routes (``Route``: carrier kind + its address there) are tried in order.

The interface: ``NotificationQueue`` holds the operations, inside one store transaction;
``NotificationStore`` is where a store keeps its queue. A store driver offers it as
``store.notifications()`` (gateway/store/sqlite/notifications.py for SQLite), the one place a
queue is built; ``notification_store(store)`` asks for it.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.notify.dlr import Outcome, Report
from gateway.store.base import StoreError, StoreTransaction

QUEUED, SENT, DELIVERED, FAILED = "queued", "sent", "delivered", "failed"

# Carrier kinds and what their address is (an MSISDN for the SMS carriers).
SMS_KINDS = ("modem", "kannel", "pap")
KINDS = SMS_KINDS + ("sip", "udp")
SAN_FORMS = ("auto", "1.2", "1.1")

_MSISDN = re.compile(r"\+?[0-9]{3,20}")
_HOSTPORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})")
_SIP_URI = re.compile(r"sip:[^\s<>\"]+")


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """One way to reach a device: ``kind`` (modem, kannel, pap, sip, udp) and the address
    on that carrier (MSISDN, SIP URI, host:port). ``address`` may be empty in a ``--via``
    that names only a configured carrier."""

    kind: str
    address: str = ""

    def __str__(self) -> str:
        if self.kind == "sip" and self.address:
            return self.address
        return f"{self.kind}:{self.address}" if self.address else self.kind

    @property
    def sms(self) -> bool:
        return self.kind in SMS_KINDS


def parse_route(text: str, *, bare: bool = False) -> Route:
    """``modem:+4912345678``, ``kannel:…``, ``pap:…``, ``sip:user@host[:port]``,
    ``udp:HOST:PORT``; with ``bare`` also a kind alone (``modem``). ValueError if bad."""
    text = text.strip()
    if bare and text in KINDS:
        return Route(kind=text)
    if text.startswith("sip:"):
        if not _SIP_URI.fullmatch(text) or len(text) < 5:
            raise ValueError(f"bad SIP URI {text!r}")
        return Route(kind="sip", address=text)
    kind, sep, address = text.partition(":")
    if not sep or kind not in KINDS:
        raise ValueError(f"bad route {text!r}: expected one of "
                         + ", ".join(f"{k}:ADDRESS" for k in KINDS))
    if kind in SMS_KINDS and not _MSISDN.fullmatch(address):
        raise ValueError(f"bad MSISDN {address!r} in route {text!r}")
    if kind == "udp":
        m = _HOSTPORT.fullmatch(address)
        if not m or not 0 < int(m.group(2)) < 65536:
            raise ValueError(f"bad HOST:PORT {address!r} in route {text!r}")
    return Route(kind=kind, address=address)


@dataclass(frozen=True, kw_only=True, slots=True)
class NotifyDevice:
    """How to notify one device: its routes in order, the server password its SAN digest
    uses (None: all-zero digest), the nonce, and the SAN form (auto: from its DevInf)."""

    device_id: str
    routes: tuple[Route, ...] = ()
    server_password: str | None = None
    nonce: bytes = b""
    form: str = "auto"

    def __post_init__(self) -> None:
        if self.form not in SAN_FORMS:
            raise ValueError(f"SAN form must be one of {', '.join(SAN_FORMS)}")

    def __repr__(self) -> str:
        return (f"NotifyDevice(device_id={self.device_id!r}, routes={self.routes!r}, "
                f"server_password=<hidden>, form={self.form!r})")


@dataclass(frozen=True, kw_only=True, slots=True)
class Notification:
    id: int
    device_id: str
    datastores: tuple[str, ...] = ()   # empty: all datastores
    via: str | None = None             # a kind or an ad-hoc route; None: the device's routes
    state: str = QUEUED
    attempts: int = 0
    created: float = 0.0
    updated: float = 0.0
    next_attempt: float = 0.0
    route: str | None = None           # the route of the last send (or last failure)
    reason: str | None = None          # why it failed, or why the last attempt failed
    origin: str = "admin"              # admin, http, monitor
    report_parts: int = 0              # SMS parts of the last send awaiting reports (0: none)
    report_time: float | None = None   # time of the newest delivery report that counts
    report: str | None = None          # what the delivery reports said, per part

    @property
    def done(self) -> bool:
        return self.state in (SENT, DELIVERED, FAILED)

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "device": self.device_id, "datastores": list(self.datastores),
                "via": self.via, "state": self.state, "attempts": self.attempts,
                "created": self.created, "updated": self.updated,
                "next_attempt": self.next_attempt, "route": self.route,
                "reason": self.reason, "origin": self.origin,
                "report_parts": self.report_parts, "report_time": self.report_time,
                "report": self.report}


def merge_datastores(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """Two requests folded into one: ``()`` (all) absorbs the other, else the union."""
    if not a or not b:
        return ()
    return tuple(sorted(set(a) | set(b)))


class NotificationQueue(Protocol):
    """The queue operations, inside one store transaction."""

    def enqueue(self, *, device_id: str, datastores: tuple[str, ...], via: str | None,
                now: float, origin: str = "admin") -> tuple[Notification, bool]:
        """Queue a notification, or fold it into a queued, unclaimed one for the same
        device and ``via`` (datastores merged). Returns (it, True if a new row)."""
    def get(self, notification_id: int) -> Notification | None: ...
    def list(self, *, device_id: str | None = None, limit: int = 50) -> list[Notification]:
        """Newest first."""
    def claim_due(self, now: float, *, owner: str, lease: float,
                  limit: int) -> list[Notification]:
        """Queued rows due by ``now`` and not leased by a live claim; each is leased to
        ``owner`` until ``now + lease`` (another node takes it over after that)."""
    def mark_sent(self, notification_id: int, *, now: float, route: str,
                  delivered: bool = False, detail: str | None = None,
                  report_parts: int = 0) -> None:
        """``report_parts`` > 0: the carrier asked for that many delivery reports."""
    def mark_retry(self, notification_id: int, *, now: float, next_attempt: float,
                   reason: str, count_attempt: bool = True) -> Notification: ...
    def mark_failed(self, notification_id: int, *, now: float, reason: str,
                    count_attempt: bool = True) -> None: ...

    # -- delivery reports (gateway/notify/dlr.py) -----------------------------------------
    def report_secret(self) -> bytes:
        """The secret of the report tokens (made on first use, shared by all nodes)."""
    def add_report(self, report: Report, *, received: float) -> str:
        """Store one report: ``"unknown"`` (no such notification), ``"stale"`` (for an
        attempt no longer current: ignored) or ``"recorded"``."""
    def report_outcome(self, notification_id: int) -> Outcome | None:
        """What the stored reports of the current attempt say, while the notification is
        ``sent`` and awaits reports (else None)."""
    def settle(self, notification_id: int, *, now: float, outcome: Outcome,
               retry_at: float | None = None) -> None:
        """Record the outcome: its state, or queued again at ``retry_at``; without a
        state only the report text and time."""
    def expire_reports(self, now: float, *, timeout: float, limit: int) -> list[Notification]:
        """``sent`` notifications awaiting reports whose send was recorded ``timeout``
        seconds or more before ``now`` and that have no final report: store a timeout
        mark for their attempt (once, whichever node gets there first), put the timeout
        into ``report``, keep the state. Returns those this call settled."""

    # -- rate limits -----------------------------------------------------------------
    def record_send(self, *, device_id: str, kind: str, sms_parts: int, now: float) -> None: ...
    def count_sends(self, *, since: float, device_id: str | None = None) -> int:
        """Notifications sent since ``since`` (to one device, or to all)."""
    def first_send_since(self, *, since: float, device_id: str) -> float | None: ...
    def sms_parts_since(self, since: float) -> int:
        """SMS parts handed to SMS carriers since ``since`` (the daily budget)."""

    # -- devices and change monitoring ----------------------------------------------------
    def get_device(self, device_id: str) -> NotifyDevice | None: ...
    def put_device(self, device: NotifyDevice) -> None: ...
    def list_device_ids(self) -> list[str]: ...
    def get_watermark(self, device_id: str, username: str, datastore: str) -> int:
        """The revision up to which changes were already notified (0: none)."""
    def set_watermark(self, device_id: str, username: str, datastore: str, rev: int) -> None: ...


class NotificationStore(Protocol):
    """A store's notification queue: its tables, and transactions that hold both the
    store's operations and the queue's (they commit or roll back together)."""

    def ensure_schema(self) -> int:
        """Create or upgrade the queue's tables; their version."""
    def transaction(self) -> AbstractContextManager[tuple[StoreTransaction, NotificationQueue]]:
        """One store transaction and the queue on it."""


def notification_store(store: Any) -> NotificationStore:
    """The notification queue kept in ``store``'s database (StoreError if it has none)."""
    offer = getattr(store, "notifications", None)
    if offer is None:
        raise StoreError(f"{type(store).__name__} keeps no notification queue")
    return offer()
