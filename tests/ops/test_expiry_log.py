"""Expired sessions are named in the log (device, user, how long idle), a refused login
that never succeeded ends as auth_failed, and both are counted in the metrics."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import maybeDeferred
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher

from gateway.service.metrics import Metrics
from gateway.service.observe import Observer
from gateway.service.tree import sweep
from gateway.store.ops import SessionRecord, ops_store
from gateway.store.sqlite.store import SQLiteStore


class _Reactor(Clock):
    def callFromThread(self, f: Any, *a: Any, **kw: Any) -> None:
        f(*a, **kw)


def test_sweep_names_each_expired_session(tmp_path):
    store = SQLiteStore(tmp_path / "db.sqlite")
    ops = ops_store(store)
    ops.ensure_schema()
    with ops.transaction() as (_tx, log):
        log.put_session(SessionRecord(key="K" * 24, device_id="IMEI:1", username="alice",
                                      started=10, updated=100, expires=200, messages=4))
        log.put_session(SessionRecord(key="Z" * 24, device_id="IMEI:2", peer="10.0.0.9",
                                      started=10, updated=100, expires=200, messages=1,
                                      detail="wrong password"))
        log.put_session(SessionRecord(key="L" * 24, device_id="IMEI:3", username="bob",
                                      started=10, updated=100, expires=900, messages=1))
    reactor = _Reactor()
    reactor.advance(500.0)              # past two expiries, not the third
    metrics = Metrics()
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    try:
        d = sweep(store, maybeDeferred, reactor, ops=ops, observer=Observer(reactor, metrics))
        assert d.called
    finally:
        globalLogPublisher.removeObserver(events.append)
        store.close()
    lines = [formatEvent(e) for e in events if e.get("log_namespace") == "gateway.ds"]
    assert any("session KKKKKK… device IMEI:1 user alice expired: no message for 400 s "
               "after 4 messages" in line for line in lines), lines
    assert any("session ZZZZZZ… device IMEI:2 from 10.0.0.9 expired without a login "
               "(wrong password)" in line for line in lines), lines
    assert not any("IMEI:3" in line for line in lines)
    assert not any("K" * 24 in line or "Z" * 24 in line for line in lines)
    finished = {tuple(sorted(s.labels.items())): s.value
                for f in metrics.registry.collect() if f.name == "omads_sessions_finished"
                for s in f.samples if s.name.endswith("_total")}
    results = {dict(k)["result"]: v for k, v in finished.items()}
    assert results == {"expired": 1.0, "auth_failed": 1.0}
