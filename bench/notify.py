"""Notification throughput: SANs built, SANs built and queued, SMS PDUs encoded.

Usage: .venv/bin/python bench/notify.py [N]   -- prints figures only (default N = 5000).

* "SAN + push built": build_payload for a 2-datastore notification (SAN with digest, WSP
  push PDU), as the service does per notification;
* "queued": one store transaction per enqueue (a distinct device each, so nothing folds)
  into an SQLite file, then build: what ``omads-admin device notify`` / POST /notify cost;
* "SMS PDUs": wap_push_pdus for a single-part push and for a 3-part concatenated push.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.ds.settings import DEFAULT_DATASTORES  # noqa: E402
from gateway.notify import san as sanlib  # noqa: E402
from gateway.notify import wsp  # noqa: E402
from gateway.notify.sms import wap_push_pdus  # noqa: E402
from gateway.store.notifications import Notification, NotifyDevice  # noqa: E402
from gateway.store.sqlite.store import SQLiteStore
from gateway.store.sqlite.notifications import SQLiteNotifications, ensure_schema
from gateway.notifier.payload import build_payload


def rate(label: str, n: int, seconds: float, unit: str) -> None:
    print(f"{label:<38} {n / seconds:>12,.0f} {unit}/s   ({n} in {seconds:.3f} s)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    nd = NotifyDevice(device_id="IMEI:1", server_password="secret", nonce=b"nonce")
    t = time.perf_counter()
    for i in range(n):
        build_payload(Notification(id=i, device_id="IMEI:1", datastores=("contacts", "calendar")),
                      server_id="omads-gateway", datastores=DEFAULT_DATASTORES, device=None,
                      nd=nd)
    rate("SAN + push built", n, time.perf_counter() - t, "SANs")

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.sqlite")
        ensure_schema(store)
        t = time.perf_counter()
        for i in range(n):
            with store.transaction() as tx:
                note, _ = SQLiteNotifications(tx).enqueue(
                    device_id=f"IMEI:{i}", datastores=("contacts", "calendar"), via=None,
                    now=float(i))
            build_payload(note, server_id="omads-gateway", datastores=DEFAULT_DATASTORES,
                          device=None, nd=nd)
        rate("SAN built and queued (1 tx each)", n, time.perf_counter() - t, "SANs")
        store.close()

    small = build_payload(Notification(id=1, device_id="d", datastores=("contacts",)),
                          server_id="omads-gateway", datastores=DEFAULT_DATASTORES,
                          device=None, nd=nd).push
    san = sanlib.encode_san(sanlib.SAN(server_id="x" * 250, syncs=tuple(
        sanlib.SANSync(server_uri=f"datastore-{i}") for i in range(8))), password="pw")
    big = wsp.san_push(san)
    for label, push in (("SMS PDUs (1 part)", small), ("SMS PDUs (concatenated)", big)):
        parts = len(wap_push_pdus(push, "+4912345678", ref=1))
        t = time.perf_counter()
        for i in range(n):
            wap_push_pdus(push, "+4912345678", ref=i & 0xFF, validity=0xA7)
        rate(f"{label}, {parts} per push", n * parts, time.perf_counter() - t, "PDUs")


if __name__ == "__main__":
    main()
