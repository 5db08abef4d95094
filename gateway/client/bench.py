"""``omads-sync bench``: simulated handsets syncing at once against a server URL.

Each of ``--devices`` handsets (own device id, in-memory store of ``--items`` generated
vCards) runs a slow sync, then ``--rounds - 1`` two-way syncs with a few changed items, all
handsets at the same time over one HTTP connection pool. Prints sessions/s, items/s and
the p50/p99 latency of one message round trip.
"""

from __future__ import annotations

import time

from twisted.internet import defer

from gateway.transport.http_client import HttpTransport
from gateway.client.memory_store import MemoryStore
from gateway.client.profiles import AUTHS, ENCODINGS
from gateway.client.runner import Observer, run_session
from gateway.ds.client.errors import ConfigError
from gateway.ds.client.settings import ClientSettings, DatastoreConfig
from gateway.ds.client.state import ClientState


def add_options(p) -> None:
    p.add_argument("--devices", type=int, default=10)
    p.add_argument("--items", type=int, default=100)
    p.add_argument("--rounds", type=int, default=2, help="1 slow sync + N-1 two-way syncs")
    p.add_argument("--changes", type=int, default=5, help="items edited per two-way round")
    p.add_argument("--device-prefix", default="bench")
    # --user may hold "{n}" (the handset number) to give every handset its own account.


class MemoryState:
    def __init__(self):
        self.state = ClientState()

    def load(self) -> ClientState:
        return self.state

    def save(self, state: ClientState) -> None:
        self.state = state


def vcard(device: int, i: int, rev: int = 0) -> bytes:
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Bench{device:04d};Item{i:06d};;;\r\n"
            f"FN:Item{i:06d} Bench{device:04d}\r\nTEL;TYPE=CELL:+49{device:04d}{i:06d}{rev}\r\n"
            f"EMAIL;TYPE=INTERNET:item{i}.dev{device}@example.org\r\nEND:VCARD\r\n").encode()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench(reactor, args, stdout) -> int:
    if not args.url:
        raise ConfigError("bench needs --url")
    http = HttpTransport(reactor, ca_file=args.ca_file, timeout=args.timeout)
    http.pool.maxPersistentPerHost = max(2, args.devices)
    observer = Observer()
    counts = {"sessions": 0, "items": 0, "failed": 0}
    clock = time.monotonic

    async def handset(n: int) -> None:
        store = MemoryStore({f"i{i:06d}": vcard(n, i) for i in range(args.items)})
        state = MemoryState()
        settings = ClientSettings(
            url=args.url, username=args.user.format(n=n), password=args.password,
            auth_type=AUTHS[args.auth], device_id=f"{args.device_prefix}-{n:04d}",
            encoding=ENCODINGS[args.encoding], max_msg_size=args.max_msg_size,
            datastores=(DatastoreConfig(local_uri="./contacts", remote_uri=args.datastore,
                                        mode=201),))
        for rnd in range(args.rounds):
            if rnd:
                for i in range(min(args.changes, args.items)):
                    store.items[f"i{i:06d}"] = vcard(n, i, rnd)
            session = await run_session(settings, {"./contacts": store}, state, http.send,
                                        clock=reactor.seconds, observer=observer)
            counts["sessions"] += 1
            if not session.ok:
                counts["failed"] += 1
            counts["items"] += sum(r.counters.sent + r.counters.received
                                   for r in session.runs.values())
            settings = ClientSettings(**{**settings.__dict__, "datastores": (
                DatastoreConfig(local_uri="./contacts", remote_uri=args.datastore, mode=200),)})

    started = clock()
    results = await defer.DeferredList([defer.ensureDeferred(handset(n))
                                        for n in range(args.devices)], consumeErrors=True)
    wall = clock() - started
    await http.close()
    errors = [r.getErrorMessage() for ok, r in results if not ok]
    lat = observer.latencies
    stdout.write(
        f"devices {args.devices}  items/device {args.items}  rounds {args.rounds}  "
        f"encoding {args.encoding}  auth {args.auth}\n"
        f"wall {wall:.2f} s  sessions {counts['sessions']} ({counts['sessions'] / wall:.1f}/s)  "
        f"items {counts['items']} ({counts['items'] / wall:.0f}/s)\n"
        f"messages {len(lat)}  latency p50 {percentile(lat, 0.5) * 1000:.1f} ms  "
        f"p99 {percentile(lat, 0.99) * 1000:.1f} ms  max {max(lat or [0]) * 1000:.1f} ms\n"
        f"failed sessions {counts['failed']}  errors {len(errors)}\n")
    for err in errors[:5]:
        stdout.write(f"  error: {err}\n")
    return 0 if not errors and not counts["failed"] else 6
