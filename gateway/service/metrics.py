"""Prometheus metrics of one gateway node: the families, fed by the engine's events
(``Metrics.engine_event``), the notification service's log events (``notify_event``), a
timer around each engine message (``TimedEngine``) and a background snapshot of counts
that need the database (``Metrics.apply_snapshot``; never a query inside a scrape).

Every label takes a bounded set of values: codes outside the known tables become
``other``, datastores are reduced to their type (contacts, calendar, notes, other), a
carrier is its kind. Served at ``/metrics`` on the admin listener by
``prometheus_client.twisted.MetricsResource``.
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway import __version__
from gateway.syncml.codes import StatusCode

__all__ = ["Metrics", "TimedEngine", "datastore_type"]

_ALERT_CODES = frozenset({*range(200, 211), 225})
_STATUS_CODES = frozenset(int(c) for c in StatusCode)
_SLOW_REASONS = frozenset({"first", "anchor_mismatch", "requested", "refresh", "forgotten"})
_RESULTS = frozenset({"ok", "partial", "error", "auth_failed", "expired", "timeout"})
_OPS = ("add", "replace", "delete", "unchanged")
_CONFLICTS = ("merged", "client-won", "duplicate", "server-won")
_SCHEMES = frozenset({"basic", "md5", "mac"})
_CARRIERS = frozenset({"modem", "kannel", "pap", "sip", "udp"})
_TYPES = {"text/vcard": "contacts", "text/x-vcard": "contacts",
          "text/calendar": "calendar", "text/x-vcalendar": "calendar",
          "text/plain": "notes", "text/x-vnote": "notes"}
SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)


def datastore_type(datastore: Any) -> str:
    """contacts, calendar, notes or other, from a datastore's preferred content type."""
    types = getattr(datastore, "content_types", ())
    return _TYPES.get(types[0][0], "other") if types else "other"


def _bounded(value: Any, known: Iterable[Any]) -> str:
    return str(value) if value in known else "other"


class Metrics:
    """The families on one registry; ``datastores``: the configured ones (for types)."""

    def __init__(self, *, datastores: tuple = (), registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self._types = {ds.name: datastore_type(ds) for ds in datastores}
        r = self.registry
        Gauge("omads_build_info", "The gateway's version", ["version"],
              registry=r).labels(__version__).set(1)
        self.started = Counter("omads_sessions_started", "Sync sessions begun",
                               ["transport", "syncml_version", "encoding"], registry=r)
        self.finished = Counter("omads_sessions_finished", "Sync sessions ended, by result",
                                ["transport", "syncml_version", "encoding", "result"],
                                registry=r)
        self.session_seconds = Histogram("omads_session_duration_seconds",
                                         "Sync session duration", buckets=DURATION_BUCKETS,
                                         registry=r)
        self.processing = Histogram("omads_message_processing_seconds",
                                    "Time the engine took for one SyncML message",
                                    registry=r)
        self.messages = Counter("omads_messages", "SyncML messages", ["direction", "encoding"],
                                registry=r)
        self.message_bytes = Histogram("omads_message_bytes", "SyncML message sizes",
                                       ["direction"], buckets=SIZE_BUCKETS, registry=r)
        self.alerts = Counter("omads_sync_alerts", "Sync alerts from clients, by code",
                              ["code"], registry=r)
        self.slow = Counter("omads_slow_syncs", "Slow syncs and refreshes, by reason",
                            ["reason"], registry=r)
        self.items = Counter("omads_items", "Items synced",
                             ["direction", "op", "datastore_type"], registry=r)
        self.refused = Counter("omads_items_refused", "Items refused, by status",
                               ["direction", "code"], registry=r)
        self.statuses = Counter("omads_status_codes", "Status codes sent and received",
                                ["direction", "code"], registry=r)
        self.conflicts = Counter("omads_conflicts", "Conflicts, by outcome", ["outcome"],
                                 registry=r)
        self.auth_failures = Counter("omads_auth_failures", "Refused logins", ["scheme"],
                                     registry=r)
        self.resends = Counter("omads_resends_detected", "Resent messages answered from cache",
                               registry=r)
        self.notifications = Counter("omads_notifications", "Notifications, by carrier and "
                                     "result", ["carrier", "result"], registry=r)
        self.queue_depth = Gauge("omads_notification_queue_depth",
                                 "Notifications by state (snapshot)", ["state"], registry=r)
        self.active = Gauge("omads_active_sessions", "Live sync sessions (snapshot)",
                            registry=r)
        self.snapshot_age = Gauge("omads_snapshot_timestamp_seconds",
                                  "When the database counts were taken", registry=r)

    # -- engine events -------------------------------------------------------------------
    def engine_event(self, event: str, fields: Mapping[str, Any]) -> None:
        handler = _ENGINE_EVENTS.get(event)
        if handler is not None:
            handler(self, fields)

    def _session_labels(self, f: Mapping[str, Any]) -> tuple[str, str, str]:
        return (_bounded(f.get("transport"), ("http", "obex")),
                _bounded(f.get("version"), ("1.0", "1.1", "1.2")),
                _bounded(f.get("encoding"), ("application/vnd.syncml+xml",
                                             "application/vnd.syncml+wbxml")).rpartition("+")[2])

    def _session_started(self, f: Mapping[str, Any]) -> None:
        self.started.labels(*self._session_labels(f)).inc()

    def _session_finished(self, f: Mapping[str, Any]) -> None:
        self.finished.labels(*self._session_labels(f), _bounded(f.get("result"), _RESULTS)).inc()
        if f.get("duration") is not None:
            self.session_seconds.observe(float(f["duration"]))

    def _message(self, f: Mapping[str, Any]) -> None:
        enc = self._session_labels(f)[2]
        for direction in ("in", "out"):
            self.messages.labels(direction, enc).inc()
            self.message_bytes.labels(direction).observe(int(f.get(f"bytes_{direction}", 0)))
        for direction, key in (("received", "codes_in"), ("sent", "codes_out")):
            for code in f.get(key, ()):
                self.statuses.labels(direction, _bounded(int(code), _STATUS_CODES)).inc()

    def _alert(self, f: Mapping[str, Any]) -> None:
        self.alerts.labels(_bounded(f.get("code"), _ALERT_CODES)).inc()
        if f.get("slow_reason"):
            self.slow.labels(_bounded(f["slow_reason"], _SLOW_REASONS)).inc()

    def _datastore(self, f: Mapping[str, Any]) -> None:
        kind = self._types.get(f.get("datastore"), "other")
        stats: Mapping[str, int] = f.get("stats", {})
        for key, n in stats.items():
            group, _, what = key.partition(".")
            if group in ("in", "out") and what in _OPS:
                self.items.labels(group, what, kind).inc(n)
            elif group in ("refused_in", "refused_out"):
                code = _bounded(int(what) if what.isdigit() else what, _STATUS_CODES)
                self.refused.labels(group.partition("_")[2], code).inc(n)
            elif group == "conflict":
                self.conflicts.labels(_bounded(what, _CONFLICTS)).inc(n)

    def _auth(self, f: Mapping[str, Any]) -> None:
        if f.get("status") == StatusCode.INVALID_CREDENTIALS:
            self.auth_failures.labels(_bounded(f.get("scheme"), _SCHEMES)).inc()

    def _resent(self, f: Mapping[str, Any]) -> None:
        self.resends.inc()

    # -- notifications and snapshots ---------------------------------------------------
    def notify_event(self, carrier: str | None, result: str) -> None:
        self.notifications.labels(_bounded(carrier, _CARRIERS),
                                  _bounded(result, ("sent", "delivered", "failed", "retry"))
                                  ).inc()

    def expired(self, record: Any) -> None:
        """A session the sweeper ended (its record from the history)."""
        self._session_finished({"transport": record.transport, "version": record.version,
                                "encoding": record.encoding, "result": record.state,
                                "duration": None})

    def apply_snapshot(self, counts: Mapping[str, int], *, taken: float | None = None) -> None:
        for state in ("queued", "sent", "delivered", "failed"):
            self.queue_depth.labels(state).set(counts.get(f"queue.{state}", 0))
        self.active.set(counts.get("sessions.live", 0))
        self.snapshot_age.set(taken if taken is not None else time.time())


_ENGINE_EVENTS = {
    "session started": Metrics._session_started,
    "session finished": Metrics._session_finished,
    "message": Metrics._message,
    "sync alert": Metrics._alert,
    "datastore finished": Metrics._datastore,
    "authentication": Metrics._auth,
    "resent message answered from cache": Metrics._resent,
}


class TimedEngine:
    """The engine with each ``handle`` timed into ``omads_message_processing_seconds``
    (on the worker thread that runs it); everything else is the engine's own."""

    def __init__(self, engine: Any, metrics: Metrics):
        self._engine = engine
        self._metrics = metrics

    def handle(self, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._engine.handle(request)
        finally:
            self._metrics.processing.observe(time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
