"""Drive the real SyncEvolution client and server (Debian 12 packages) on 127.0.0.1.

Recipes and workarounds follow the project's SyncEvolution lab notes: the client needs the
``securlfix.so`` LD_PRELOAD shim (built from tests/support/peers/syncevolution/securlfix.c),
``--daemon=no`` and ``keyring=no``; the server is
syncevo-dbus-server + a loopback-only copy of syncevo-http-server in a private
``dbus-run-session``.  vCard helpers live in :mod:`tests.interop.vcards`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.interop.vcards import make_vcards, normalize_vcard  # noqa: F401  (re-export)
from tests.support.locations import peer_file

SYNCEVOLUTION = "/usr/bin/syncevolution"
DBUS_SERVER = "/usr/libexec/syncevo-dbus-server"
HTTP_SERVER = "/usr/bin/syncevo-http-server"
SYSTEM_PYTHON = "/usr/bin/python3"  # the http server needs Debian's python3-dbus/-gi/-twisted

SYNC_MODES = frozenset({
    "slow", "two-way", "refresh-from-client", "refresh-from-server",
    "one-way-from-client", "one-way-from-server",
})

# Client properties that keep SyncEvolution fast and quiet (notes section 3/6).
# logdir is left alone on the client: logdir=none makes it exit 1 after a good sync.
QUIET = ("loglevel=1", "printChanges=0", "dumpData=0")


class SyncEvoError(RuntimeError):
    """A SyncEvolution command failed or a peer did not come up."""


_SHIM_CACHE: dict[str, Path] = {}


def build_securlfix(workdir: Path | str) -> Path:
    """Compile the client's LD_PRELOAD shim into ``workdir`` once per process."""
    cached = _SHIM_CACHE.get("so")
    if cached is not None and cached.exists():
        return cached
    source = peer_file("syncevolution", "securlfix.c")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "securlfix.so"
    tmp = workdir / f"securlfix.{os.getpid()}.so"
    cmd = ["gcc", "-shared", "-fPIC", "-O2", "-o", str(tmp), str(source), "-ldl"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise SyncEvoError(f"building {source} failed:\n{proc.stderr}")
    tmp.replace(target)
    _SHIM_CACHE["so"] = target
    return target


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment that confines SyncEvolution's configs, logs and state to ``home``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "DBUS_", "LD_PRELOAD", "SYNCEVOLUTION_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_CACHE_HOME=str(home / ".cache"))
    for sub in (".config", ".local/share", ".cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


@dataclasses.dataclass(frozen=True, kw_only=True)
class Completed:
    """One finished (or killed) command."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool


def run_bounded(args: list[str], *, env: dict[str, str], timeout: float,
                cwd: Path | None = None) -> Completed:
    """Run a command in its own process group; kill that group when ``timeout`` passes."""
    start = time.monotonic()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    out_text = "".join(line for line in out.decode("utf-8", "replace").splitlines(True)
                       if not line.startswith("Loaded backend"))
    return Completed(args=tuple(args), returncode=proc.returncode, stdout=out_text,
                     stderr=err.decode("utf-8", "replace"),
                     duration=time.monotonic() - start, timed_out=timed_out)


def _configure(env: dict[str, str], props: list[str], config: str, datastore: str) -> None:
    cmd = [SYNCEVOLUTION, "--daemon=no", "--configure", "--template", "none",
           *props, config, datastore]
    done = run_bounded(cmd, env=env, timeout=60)
    if done.returncode != 0:
        raise SyncEvoError(f"configure {config} failed (rc {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")


def read_store(store: Path) -> dict[str, bytes]:
    """Items of a file-backend store: file name -> content (hidden files skipped)."""
    return {p.name: p.read_bytes() for p in sorted(store.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def parse_status_ini(text: str) -> dict[str, str]:
    """The ``key = value`` lines of a SyncEvolution session's status.ini."""
    report = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            report[key.strip()] = value.strip()
    return report


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncResult:
    """Outcome of one ``syncevolution --sync`` run."""

    mode: str
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool
    report: dict[str, str]  # status.ini of the session, {} if none was written

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def stat(self, datastore: str, name: str) -> int:
        """A report counter, e.g. ``stat('addressbook', 'remote-added-total')``."""
        return int(self.report.get(f"source-{datastore}-stat-{name}", "0"))

    def check(self) -> SyncResult:
        """Return self, or raise SyncEvoError with the output if the sync failed."""
        if not self.ok:
            raise SyncEvoError(
                f"sync {self.mode} failed: rc={self.returncode} timed_out={self.timed_out} "
                f"error={self.report.get('error')!r}\n{self.stdout[-3000:]}{self.stderr[-3000:]}")
        return self


class SyncEvoClient:
    """An isolated SyncEvolution client with a file-backend store of one datastore.

    ``extra`` adds ``name=value`` properties, e.g. ``{"preventSlowSync": "0"}``: by default a
    first non-slow sync with local data is refused ("unexpected slow sync", exit 1).
    """

    def __init__(self, *, workdir: Path | str, url: str, username: str = "alice",
                 password: str = "secret", device_id: str = "sc-client-1",
                 wbxml: bool = True, auth: str = "md5", max_msg_size: int = 150000,
                 database_format: str = "text/vcard", datastore: str = "addressbook",
                 uri: str = "contacts", extra: dict[str, str] | None = None,
                 shim: Path | None = None, peer: str = "gw") -> None:
        if auth not in ("basic", "md5"):
            raise ValueError(f"auth must be 'basic' or 'md5', not {auth!r}")
        self.workdir = Path(workdir)
        self.home = self.workdir / "home"
        self.store = self.workdir / "store"
        self.store.mkdir(parents=True, exist_ok=True)
        self.url, self.username, self.password = url, username, password
        self.device_id, self.wbxml, self.auth = device_id, wbxml, auth
        self.max_msg_size, self.database_format = max_msg_size, database_format
        self.datastore, self.uri, self.peer = datastore, uri, peer
        self.extra = dict(extra or {})
        self.shim = shim if shim is not None else build_securlfix(self.workdir)
        self.env = isolated_env(self.home)
        self.configured = False

    def configure(self) -> None:
        """Write the peer config (runs once; re-run after changing attributes)."""
        props = [
            "keyring=no", f"syncURL={self.url}", f"username={self.username}",
            f"password={self.password}", f"deviceId={self.device_id}",
            f"enableWBXML={1 if self.wbxml else 0}", f"clientAuthType={self.auth}",
            f"maxMsgSize={self.max_msg_size}", "RetryDuration=0", *QUIET,
            "backend=file", f"databaseFormat={self.database_format}",
            f"database=file://{self.store}", "sync=two-way", f"uri={self.uri}",
            *(f"{k}={v}" for k, v in self.extra.items()),
        ]
        _configure(self.env, props, self.peer, self.datastore)
        self.configured = True

    def sync(self, mode: str = "two-way", timeout: float = 300) -> SyncResult:
        """Run one sync session in-process (``--daemon=no``) with the shim preloaded."""
        if mode not in SYNC_MODES:
            raise ValueError(f"unknown sync mode {mode!r}")
        if not self.configured:
            self.configure()
        cmd = [SYNCEVOLUTION, "--daemon=no", "--sync", mode]
        if mode == "refresh-from-server":  # else SyncEvolution wipes locally and sends 201
            cmd += ["--sync-property", "enableRefreshSync=1"]
        cmd.append(self.peer)
        before = set(self._session_dirs())
        env = dict(self.env, LD_PRELOAD=str(self.shim))
        done = run_bounded(cmd, env=env, timeout=timeout)
        report: dict[str, str] = {}
        new = sorted(set(self._session_dirs()) - before, key=lambda p: p.stat().st_mtime)
        if new and (new[-1] / "status.ini").exists():
            report = parse_status_ini((new[-1] / "status.ini").read_text("utf-8", "replace"))
        return SyncResult(mode=mode, returncode=done.returncode, stdout=done.stdout,
                          stderr=done.stderr, duration=done.duration,
                          timed_out=done.timed_out, report=report)

    def _session_dirs(self) -> list[Path]:
        logs = self.home / ".cache" / "syncevolution"
        return [p for p in logs.iterdir() if p.is_dir()] if logs.exists() else []

    def items(self) -> dict[str, bytes]:
        return read_store(self.store)

    def write_item(self, name: str, data: bytes) -> None:
        (self.store / name).write_bytes(data)

    def write_items(self, items: dict[str, bytes]) -> None:
        for name, data in items.items():
            self.write_item(name, data)

    def delete_item(self, name: str) -> None:
        (self.store / name).unlink()


# Runs as /usr/bin/python3 inside dbus-run-session: starts syncevo-dbus-server (quiet,
# explicitly, so D-Bus activation never starts a chatty second one), waits for its bus
# name, starts the http front, writes the pids, and on SIGTERM stops both.
_LAUNCHER = r"""
import json, os, signal, subprocess, sys, time
ready, dbus_log, http_log, script, url, debug = sys.argv[1:7]
procs = []
def stop(*_):
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 15
    for p in reversed(procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill(); p.wait()
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
def owned():
    r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                        "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                        "string:org.syncevolution"], capture_output=True, text=True, timeout=10)
    return "boolean true" in r.stdout
procs.append(subprocess.Popen([%(dbus)r, "--duration=unlimited", "--verbosity=1", "--stdout",
                               "--no-syslog"], stdout=open(dbus_log, "wb"), stderr=subprocess.STDOUT))
deadline = time.monotonic() + 30
while not owned():
    if procs[0].poll() is not None or time.monotonic() > deadline:
        sys.stderr.write("syncevo-dbus-server did not register on the bus\n"); stop()
    time.sleep(0.1)
flags = ["--debug"] if debug == "1" else []
procs.append(subprocess.Popen([%(python)r, script, *flags, url], stdout=open(http_log, "wb"),
                              stderr=subprocess.STDOUT))
with open(ready + ".tmp", "w") as f:
    json.dump({"launcher": os.getpid(), "dbus_server": procs[0].pid, "http_server": procs[1].pid}, f)
os.replace(ready + ".tmp", ready)
while all(p.poll() is None for p in procs):
    time.sleep(0.2)
sys.stderr.write("a server process exited on its own\n"); stop()
""" % {"dbus": DBUS_SERVER, "python": SYSTEM_PYTHON}


def loopback_http_server(target: Path) -> Path:
    """Copy syncevo-http-server with the loopback patch applied (fixed shebang, bind 127.0.0.1)."""
    text = Path(HTTP_SERVER).read_text("utf-8")
    old_listen = "port = reactor.listenTCP(url.port, site)"
    if text.count(old_listen) != 1:
        raise SyncEvoError(f"{HTTP_SERVER}: cannot apply the loopback patch (listenTCP line changed)")
    text = text.replace(old_listen,
                        "port = reactor.listenTCP(url.port, site, interface='127.0.0.1')")
    first, _, rest = text.partition("\n")
    if first.startswith("#!"):
        text = f"#!{SYSTEM_PYTHON}\n{rest}"
    target.write_text(text, "utf-8")
    return target


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_pids(sid: int, live_only: bool = False) -> list[int]:
    """Processes whose session id (field 6 of /proc/PID/stat) is ``sid``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and not (live_only and fields[0] in "ZX"):
            pids.append(int(entry))
    return sorted(pids)


class SyncEvoServer:
    """SyncEvolution's own SyncML server (HTTP, file backend) for a set of client DevIDs."""

    def __init__(self, *, workdir: Path | str, device_ids: list[str] | tuple[str, ...],
                 username: str = "alice", password: str = "secret",
                 database_format: str = "text/vcard", datastore: str = "addressbook",
                 uri: str = "contacts", extra: dict[str, str] | None = None,
                 shared_store: bool = False, debug: bool = False,
                 start_timeout: float = 60) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.device_ids = tuple(device_ids)
        self.username, self.password = username, password
        self.database_format, self.datastore, self.uri = database_format, datastore, uri
        self.extra, self.debug, self.start_timeout = dict(extra or {}), debug, start_timeout
        self.shared_store = shared_store  # every DevID's config points at one directory
        self.home = self.workdir / "home"
        self.env = isolated_env(self.home)
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.roles: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/syncevolution"

    @property
    def session_id(self) -> int:
        """Session id shared by every server process (dbus-run-session was started with setsid)."""
        assert self.proc is not None, "server not started"
        return self.proc.pid

    def store_dir(self, device_id: str) -> Path:
        index = self.device_ids.index(device_id)
        return self.workdir / "stores" / ("shared" if self.shared_store else f"d{index}")

    def items(self, device_id: str) -> dict[str, bytes]:
        return read_store(self.store_dir(device_id))

    def configure(self) -> None:
        """One server config per client DevID, each in its own context (own store)."""
        for i, device_id in enumerate(self.device_ids):
            store = self.store_dir(device_id)
            store.mkdir(parents=True, exist_ok=True)
            props = [
                "keyring=no", "PeerIsClient=1", f"username={self.username}",
                f"password={self.password}", f"remoteDeviceId={device_id}",
                *QUIET, "logdir=none", "backend=file",
                f"databaseFormat={self.database_format}", f"database=file://{store}",
                "sync=two-way", f"uri={self.uri}",
                *(f"{k}={v}" for k, v in self.extra.items()),
            ]
            _configure(self.env, props, f"client{i}@ctx{i}", self.datastore)

    def start(self) -> SyncEvoServer:
        self.configure()
        script = loopback_http_server(self.workdir / "syncevo-http-server-lo.py")
        ready = self.workdir / "ready.json"
        ready.unlink(missing_ok=True)
        self.port = free_port()
        self.log = self.workdir / "session.log"
        cmd = ["dbus-run-session", "--", SYSTEM_PYTHON, "-c", _LAUNCHER, str(ready),
               str(self.workdir / "dbus-server.log"), str(self.workdir / "http-server.log"),
               str(script), self.url, "1" if self.debug else "0"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                self._fail("the server session exited while starting")
            if time.monotonic() > deadline:
                self._fail(f"not listening after {self.start_timeout} s")
            if ready.exists() and _accepts(self.port):
                break
            time.sleep(0.1)
        self.roles = json.loads(ready.read_text())
        return self

    def _fail(self, why: str) -> None:
        logs = "".join(f"--- {p.name}\n{p.read_text('utf-8', 'replace')[-2000:]}\n"
                       for p in sorted(self.workdir.glob("*.log")))
        self.stop()
        raise SyncEvoError(f"SyncEvolution server: {why}\n{logs}")

    def pids(self) -> list[int]:
        """Live server processes: syncevo-dbus-server, its per-session syncevo-dbus-helper,
        the http server and the session's dbus-daemon (not dbus-run-session, not the launcher)."""
        if self.proc is None:
            return []
        harness = {self.proc.pid, self.roles.get("launcher")}
        return [p for p in session_pids(self.session_id, live_only=True) if p not in harness]

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the launcher, which stops both daemons; the bus goes with dbus-run-session."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            launcher = self.roles.get("launcher")
            try:
                if launcher:
                    os.kill(launcher, signal.SIGTERM)
                else:  # still starting: the whole process group of our dbus-run-session
                    os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # dbus-run-session does not wait for its bus daemon; kill what is left of the
        # session this object started (never anything else), then wait for it to go.
        deadline = time.monotonic() + 10
        while (leftovers := session_pids(self.proc.pid, live_only=True)):
            if time.monotonic() > deadline:
                raise SyncEvoError(f"server processes survived SIGKILL: {leftovers}")
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> SyncEvoServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0

