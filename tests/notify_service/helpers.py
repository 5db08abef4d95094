"""Shared pieces of the notification service tests: stores, settings, fake carriers."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, fail, maybeDeferred, succeed

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import san as sanlib
from gateway.notify import wsp
from gateway.store.notifications import NotifyDevice, parse_route
from gateway.store.sqlite.store import SQLiteStore
from gateway.transport.notify.carriers.base import CarrierError, Sent
from gateway.config.notify import NotifySettings

SERVER_ID = "omads-test"
PASSWORD = "s3cret"
NONCE = b"n0nce"


def sync_run(f: Any, *args: Any) -> Deferred:
    """A ``run`` that calls in the reactor thread (the store is used from one thread)."""
    return maybeDeferred(f, *args)


def open_store(tmp_path: Path) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "omads.sqlite")
    store.notifications().ensure_schema()
    return store


def device(device_id: str = "IMEI:1", *routes: str, password: str | None = PASSWORD,
           form: str = "auto") -> NotifyDevice:
    return NotifyDevice(device_id=device_id, routes=tuple(parse_route(r) for r in routes),
                        server_password=password, nonce=NONCE, form=form)


def settings(**kw: Any) -> NotifySettings:
    base = NotifySettings(enabled=True, poll_interval=1.0, retry_delay=10.0,
                          retry_max_delay=100.0, max_attempts=3, send_timeout=30.0, lease=120.0)
    return replace(base, **kw)


def queue(store: SQLiteStore, fn: Any) -> Any:
    with store.notifications().transaction() as (_tx, q):
        return fn(q)


class FakeCarrier:
    """Records sends; ``results`` scripts each one: Sent, an error text, or "hang"."""

    def __init__(self, kind: str, results: list | None = None, *, parts: int = 1):
        self.kind = kind
        self.sms = kind in ("modem", "kannel", "pap")
        self.parts = parts
        self.results = list(results or [])
        self.sent: list[tuple[str, Any]] = []
        self.pending: list[Deferred] = []
        self.stopped = False

    def sms_parts(self, payload: Any) -> int:
        return self.parts if self.sms else 0

    def send(self, address: str, payload: Any) -> Deferred:
        self.sent.append((address, payload))
        result = self.results.pop(0) if self.results else Sent(detail="ok")
        if result == "hang":
            d: Deferred = Deferred()
            self.pending.append(d)
            return d
        if isinstance(result, str):
            return fail(CarrierError(result))
        return succeed(result)

    def stop(self) -> None:
        self.stopped = True


def check_san(data: bytes, *, datastores: tuple[str, ...], session_id: int | None = None,
              password: str = PASSWORD, nonce: bytes = NONCE) -> sanlib.SAN:
    """Decode a SAN, verify its digest and compare its entries with the configuration."""
    san = sanlib.decode_san(data)
    assert san.server_id == SERVER_ID
    assert sanlib.verify_san(data, password=password, nonce=nonce)
    assert not sanlib.verify_san(data, password=password + "x", nonce=nonce)
    assert [s.server_uri for s in san.syncs] == list(datastores)
    assert all(s.sync_type == 206 for s in san.syncs)
    if session_id is not None:
        assert san.session_id == session_id
    assert san.initiator == sanlib.Initiator.SERVER
    return san


def check_push(pdu: bytes) -> bytes:
    """Decode a WSP push, check its headers, return the SAN inside."""
    push = wsp.decode_push(pdu)
    assert push.content_type == wsp.SAN_CONTENT_TYPE
    assert push.application_id == wsp.SYNCML_APP_ID
    return push.body


def datastore_names() -> tuple[str, ...]:
    return tuple(ds.name for ds in DEFAULT_DATASTORES)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(*programs: str) -> None:
    """The interop tests need these Debian binaries: a missing one is a failure, not a skip."""
    missing = [p for p in programs if shutil.which(p) is None and not Path(p).exists()]
    assert not missing, f"missing programs {missing}: apt-get install the packages in the report"
