"""Benchmark helpers: CPU and memory of server processes from /proc, and the gateway process.

CPU of a set of processes at one instant = sum of utime+stime+cutime+cstime over them
(fields 14-17 of /proc/PID/stat), which also covers children they have reaped (e.g.
syncevo-dbus-helper).  Memory: VmHWM (per-process peak RSS) and VmRSS, sampled by a thread,
because a per-sync helper process is gone once the sync ends.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TWISTD = REPO / ".venv" / "bin" / "twistd"
GATEWAY_URI = "contacts"  # datastore name the client alerts (<Target><LocURI>)
GATEWAY_USER = ("alice", "secret")


def gateway_config(port: int, db_path: Path) -> str:
    """The omads-gateway TOML used by the benchmarks (follows conf/omads-gateway.toml;
    the format is not final: adjust here)."""
    user, password = GATEWAY_USER
    return f"""\
log_level = "warn"

[http]
listen = ["tcp:{port}:interface=127.0.0.1"]

[store]
path = "{db_path}"

[[datastore]]
name = "{GATEWAY_URI}"
aliases = ["addressbook"]
content_types = ["text/vcard:3.0", "text/x-vcard:2.1"]

[[user]]
name = "{user}"
password = "{password}"
"""


CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProcInfo:
    """One /proc reading of one process."""

    pid: int
    name: str
    state: str
    session: int
    cpu: float  # own + reaped children, user + system, seconds
    rss_kb: int
    hwm_kb: int


def read_proc(pid: int) -> ProcInfo | None:
    """Read /proc/PID/stat and status; None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    f = stat[stat.rindex(")") + 2:].split()  # f[0] is field 3 (state)
    ticks = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime stime cutime cstime
    mem = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            mem[key] = int(value.split()[0])
    return ProcInfo(pid=pid, name=name, state=f[0], session=int(f[3]), cpu=ticks / CLK_TCK,
                    rss_kb=mem.get("VmRSS", 0), hwm_kb=mem.get("VmHWM", 0))


def read_pss_kb(pid: int) -> int:
    """Proportional set size (shared pages split between their users); 0 if unreadable."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU used so far by these processes and the children they reaped."""
    return sum(info.cpu for pid in pids if (info := read_proc(pid)) is not None)


class MemorySampler:
    """Samples the processes returned by ``pids()`` every ``interval`` seconds in a thread."""

    def __init__(self, pids: Callable[[], Iterable[int]], interval: float = 0.1) -> None:
        self._pids, self._interval = pids, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self.peak_total_rss_kb = 0  # largest sum of VmRSS seen in one sample
        self.peak_total_pss_kb = 0  # largest sum of Pss (shared libraries counted once)
        self.peak_hwm_kb: dict[tuple[int, str], int] = {}  # (pid, name) -> VmHWM

    def _sample(self) -> None:
        total = total_pss = 0
        for pid in self._pids():
            info = read_proc(pid)
            if info is None or info.state in "ZX":
                continue
            total += info.rss_kb
            total_pss += read_pss_kb(pid)
            key = (pid, info.name)
            self.peak_hwm_kb[key] = max(self.peak_hwm_kb.get(key, 0), info.hwm_kb)
        self.peak_total_rss_kb = max(self.peak_total_rss_kb, total)
        self.peak_total_pss_kb = max(self.peak_total_pss_kb, total_pss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sample()

    @property
    def peak_process_kb(self) -> int:
        """Peak RSS of the largest single process."""
        return max(self.peak_hwm_kb.values(), default=0)


class GatewayUnavailable(RuntimeError):
    """The gateway could not be started (reason in the message)."""


@dataclasses.dataclass(kw_only=True)
class GatewayProcess:
    """A running ``twistd omads-gateway`` in its own session."""

    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sync"

    def pids(self) -> list[int]:
        from tests.interop.syncevo import session_pids
        return session_pids(self.proc.pid, live_only=True)

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_gateway(port: int, db_path: Path, workdir: Path,
                  config: Callable[[int, Path], str] = gateway_config,
                  timeout: float = 30) -> GatewayProcess:
    """Write the config, start twistd in the foreground and wait until the port accepts."""
    if not TWISTD.exists():
        raise GatewayUnavailable(f"{TWISTD} not found")
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "omads-gateway.toml"
    conf.write_text(config(port, db_path), "utf-8")
    log = workdir / "gateway.log"
    cmd = [str(TWISTD), "-n", "--pidfile=", "omads-gateway", "--config", str(conf)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    gateway = GatewayProcess(proc=proc, port=port, log=log)
    deadline = time.monotonic() + timeout
    while not _accepts(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            why = (f"exited with {proc.returncode}" if proc.returncode is not None
                   else f"no listener after {timeout} s")
            gateway.stop()
            tail = log.read_text("utf-8", "replace").strip().splitlines()[-5:]
            raise GatewayUnavailable(f"{why}: " + " | ".join(tail))
        time.sleep(0.1)
    return gateway


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0
