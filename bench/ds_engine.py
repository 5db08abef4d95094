"""Engine throughput: slow sync of N contacts each way through SyncServer.handle (bytes).

Usage: .venv/bin/python bench/ds_engine.py [N] [MaxMsgSize]   -- prints figures only.
       .venv/bin/python bench/ds_engine.py --profile [N ...]  -- CPU per item (WBXML,
       MaxMsgSize 150000, 300 items per client message) and the top of a cProfile of
       SyncServer.handle for three slow syncs: "up" (N items into an empty datastore),
       "down" (an empty client gets the N items), "pair" (a client with the same N items:
       each one pairs with ours by content), "again" (the first client slow-syncs again:
       each item pairs through the ID map of the last sync).
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.ds.server.handler import SyncServer
from gateway.ds.settings import ServerSettings  # noqa: E402
from gateway.store.accounts import make_secret  # noqa: E402
from gateway.store.base import Account  # noqa: E402
from gateway.store.sqlite.store import SQLiteStore
from gateway.syncml import codec  # noqa: E402
from tests.ds.simclient import SimClient, vcard  # noqa: E402


class _Profiled:
    """Wraps a SyncServer: CPU time and (optionally) a cProfile of handle() only."""

    def __init__(self, server: SyncServer, profile: cProfile.Profile | None):
        self.server, self.profile, self.cpu = server, profile, 0.0

    def handle(self, request):
        t0 = time.process_time()
        if self.profile is not None:
            self.profile.enable()
        try:
            return self.server.handle(request)
        finally:
            if self.profile is not None:
                self.profile.disable()
            self.cpu += time.process_time() - t0


def _store(d: str) -> SQLiteStore:
    store = SQLiteStore(Path(d) / "bench.db")
    with store.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    return store


def run(n: int, max_msg: int, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        store = _store(d)
        server = SyncServer(ServerSettings(), store)
        up = SimClient(server, device_id="up", max_msg_size=max_msg, encoding=encoding,
                       items_per_message=max(1, max_msg // 400))
        up.items = {f"c{i}": vcard(i) for i in range(n)}
        t0 = time.perf_counter()
        up.sync(201)
        t1 = time.perf_counter()
        down = SimClient(server, device_id="down", max_msg_size=max_msg, encoding=encoding)
        down.sync(201)
        t2 = time.perf_counter()
        assert len(down.items) == n
        name = "wbxml" if encoding == codec.WBXML else "xml"
        print(f"{name:5} N={n} MaxMsgSize={max_msg}: client->server {n / (t1 - t0):8.0f} items/s "
              f"({len(up.log)} msgs), server->client {n / (t2 - t1):8.0f} items/s "
              f"({len(down.log)} msgs)")
        store.close()


SCENARIOS = (("up", "up", True), ("down", "down", False), ("pair", "pair", True),
             ("again", "up", True))


def _scenarios(n: int, profiled: bool):
    """Runs the scenarios on one server; yields (name, messages, CPU, profile or None)."""
    with tempfile.TemporaryDirectory() as d:
        store = _store(d)
        server = SyncServer(ServerSettings(), store)
        clients: dict[str, SimClient] = {}
        for name, device, fill in SCENARIOS:
            wrapped = _Profiled(server, cProfile.Profile() if profiled else None)
            client = clients.get(device)
            if client is None:      # a client kept for "again" keeps its nonce and anchor
                client = clients[device] = SimClient(
                    wrapped, device_id=device, max_msg_size=150000, encoding=codec.WBXML,
                    items_per_message=300)
            client.server, client.log = wrapped, []
            if fill:
                client.items = {f"c{i}": vcard(i) for i in range(n)}
            mode, _ = client.sync(201)
            assert mode == 201 and len(client.items) == n, (name, mode, len(client.items))
            msgs, client.log = len(client.log), []
            if device not in [d for _, d, _ in SCENARIOS[SCENARIOS.index((name, device, fill)) + 1:]]:
                del clients[device]     # keep only what a later scenario needs
            gc.collect()
            yield name, msgs, wrapped.cpu, wrapped.profile
        store.close()


def profile(n: int, top: int = 25) -> None:
    """Prints the server CPU and the top of the profile of each scenario for N items."""
    for name, msgs, cpu, prof in list(_scenarios(n, True)):
        print(f"N={n} {name:5}: {msgs} msgs, server CPU (profiled) {cpu:6.2f} s")
        pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def timed(n: int) -> list[float]:
    """Unprofiled server CPU per scenario for N items, WBXML, MaxMsgSize 150000."""
    return [cpu for _, _, cpu, _ in _scenarios(n, False)]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--profile":
        sizes = [int(a) for a in argv[1:]] or [5000, 20000]
        for n in sizes:
            profile(n)
        base = None
        for n in sorted({1000, *sizes}):
            cpus = timed(n)
            base = base or [c / n for c in cpus]
            print(f"N={n:6}: server CPU " + ", ".join(
                f"{name} {c:5.2f} s ({c / n * 1e6:4.0f} us/item, x{c / n / b:.2f} of N=1000)"
                for (name, _, _), c, b in zip(SCENARIOS, cpus, base))
                + f"; max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        return
    count = int(argv[0]) if argv else 2000
    size = int(argv[1]) if len(argv) > 1 else 150000
    for enc in (codec.XML, codec.WBXML):
        run(count, size, enc)
        run(count, 10240, enc)


if __name__ == "__main__":
    main(sys.argv[1:])
