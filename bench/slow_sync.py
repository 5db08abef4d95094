#!/usr/bin/env python3
"""Slow sync of N generated vCards from the real SyncEvolution client into (a) SyncEvolution's
own server and (b) omads-gateway; prints wall time, server CPU and server peak RSS.

usage: bench/slow_sync.py [N ...]        (default: 1000 5000 20000)

Client: WBXML, md5, maxMsgSize 150000, loglevel=1 printChanges=0 dumpData=0.
SyncEvolution server: same quiet settings + logdir=none, syncevo-dbus-server --verbosity=1.
"wall" = the client's sync command; "CPU" = server processes' user+system during the sync
(including reaped children); "RSS"/"PSS" = peak of the summed RSS/PSS of the server processes
(for SyncEvolution: syncevo-dbus-server, its syncevo-dbus-helper, the python http server and
the session dbus-daemon), sampled every 0.1 s; "largest process" = highest VmHWM of one.
Compare the two servers only within one run: load on the machine changes absolute figures.
"""
from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import (  # noqa: E402
    GATEWAY_URI, GATEWAY_USER, GatewayUnavailable, MemorySampler, cpu_seconds, start_gateway)
from tests.interop.syncevo import (  # noqa: E402
    SyncEvoClient, SyncEvoServer, build_securlfix, free_port, make_vcards)

DEVICE_ID = "sc-bench-1"
DEFAULT_SIZES = (1000, 5000, 20000)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figures:
    wall: float  # seconds, client sync command
    cpu: float  # seconds, server processes during the sync
    cpu_total: float  # seconds, server processes from start to end of the sync
    rss_kb: int  # peak summed RSS of the server processes
    pss_kb: int  # peak summed PSS (shared library pages counted once)
    largest_kb: int  # peak RSS of the largest server process
    stored: int  # items the client counted as added on the server


def client_for(workdir: Path, url: str, uri: str, cards: dict[str, bytes], shim: Path,
               ) -> SyncEvoClient:
    user, password = GATEWAY_USER
    client = SyncEvoClient(workdir=workdir, url=url, username=user, password=password,
                           device_id=DEVICE_ID, wbxml=True, auth="md5", uri=uri, shim=shim)
    client.write_items(cards)
    client.configure()
    return client


def measure(client: SyncEvoClient, pids, n: int) -> Figures:
    """Run the slow sync while sampling the server processes returned by ``pids()``."""
    time.sleep(0.5)  # let the server settle after start-up
    with MemorySampler(pids) as memory:
        before = cpu_seconds(pids())
        result = client.sync("slow", timeout=120 + n * 0.05).check()
        time.sleep(0.5)  # the per-session helper exits and is reaped after the reply
        after = cpu_seconds(pids())
    return Figures(wall=result.duration, cpu=after - before, cpu_total=after,
                   rss_kb=memory.peak_total_rss_kb, pss_kb=memory.peak_total_pss_kb,
                   largest_kb=memory.peak_process_kb,
                   stored=result.stat(client.datastore, "remote-added-total"))


def bench_syncevolution(n: int, cards: dict[str, bytes], workdir: Path, shim: Path) -> Figures:
    with SyncEvoServer(workdir=workdir / "se-server", device_ids=[DEVICE_ID]) as server:
        client = client_for(workdir / "se-client", server.url, "contacts", cards, shim)
        figures = measure(client, server.pids, n)
        stored = len(server.items(DEVICE_ID))
        if stored != n or figures.stored != n:
            raise RuntimeError(f"SyncEvolution server stored {stored} of {n} items")
    return figures


def bench_gateway(n: int, cards: dict[str, bytes], workdir: Path, shim: Path) -> Figures:
    gateway = start_gateway(free_port(), workdir / "gateway.sqlite", workdir / "gateway")
    try:
        client = client_for(workdir / "gw-client", gateway.url, GATEWAY_URI, cards, shim)
        return measure(client, gateway.pids, n)
    finally:
        gateway.stop()


def show(label: str, f: Figures) -> None:
    print(f"  {label:<14} wall {f.wall:7.2f} s | server CPU {f.cpu:6.2f} s "
          f"(with start-up {f.cpu_total:5.2f}) | server peak RSS {f.rss_kb / 1024:6.1f} MB, "
          f"PSS {f.pss_kb / 1024:6.1f} MB, largest process {f.largest_kb / 1024:5.1f} MB "
          f"| stored {f.stored}", flush=True)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or list(DEFAULT_SIZES)
    base = Path(tempfile.mkdtemp(prefix="omads-bench-"))
    try:
        shim = build_securlfix(base)
        for run, n in enumerate(sizes):
            cards = make_vcards(n, seed=n)
            print(f"slow sync, {n} vCards ({sum(map(len, cards.values())) // 1024} KB), "
                  "WBXML, md5", flush=True)
            se = bench_syncevolution(n, cards, base / f"se-{run}", shim)
            show("syncevolution:", se)
            try:
                gw = bench_gateway(n, cards, base / f"gw-{run}", shim)
            except GatewayUnavailable as exc:
                print(f"  gateway: not available ({exc})", flush=True)
                continue
            except Exception as exc:  # a failed sync is a result to print, not a crash
                print(f"  gateway: failed ({type(exc).__name__}: {str(exc)[:500]})", flush=True)
                continue
            show("omads-gateway:", gw)
            print(f"  gateway/syncevolution: wall {gw.wall / se.wall:.2f}x   "
                  f"CPU {gw.cpu / se.cpu:.2f}x   RSS {gw.rss_kb / se.rss_kb:.2f}x   "
                  f"PSS {gw.pss_kb / se.pss_kb:.2f}x", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
