"""The twistd glue: Options, the service tree, bootstrap accounts, the plugin, and a real
``twistd omads-gateway`` process on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from twisted.application.internet import TimerService
from twisted.application.service import IServiceMaker, MultiService, Service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import capturedLogs
from twisted.plugin import getPlugins
from twisted.python import usage

from gateway.config import BootstrapUser, ConfigError, parse_settings
from gateway.service import (
    Options, OrderedMultiService, StoreService, sweep, bootstrap_users,
    build_service, makeService,
)
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.sqlite.store import SQLiteStore
from gateway.transport import logs
from gateway.transport.http import SyncSite
from gateway.transport.listen import Listener

ROOT = Path(__file__).resolve().parent.parent
TWISTD = Path(sys.executable).with_name("twistd")


class ThreadlessReactor(MemoryReactorClock):
    """A MemoryReactorClock that queues callFromThread calls for the test to run."""

    def __init__(self) -> None:
        super().__init__()
        self.from_threads: list[Any] = []
        self._lock = threading.Lock()
        self.called_from_thread = threading.Event()

    def callFromThread(self, f: Any, *args: Any, **kw: Any) -> None:
        with self._lock:
            self.from_threads.append((f, args, kw))
        self.called_from_thread.set()

    def run_thread_results(self) -> None:
        with self._lock:
            calls, self.from_threads = self.from_threads, []
        for f, args, kw in calls:
            f(*args, **kw)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = SQLiteStore(tmp_path / "db.sqlite")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def keep_log_level() -> Any:
    before = logs.get_level()
    yield
    logs.set_level(before)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- Options -----------------------------------------------------------------------------

def test_options_parse_config_and_overrides(tmp_path: Path) -> None:
    """--config, repeated --http and --db are parsed; overrides replace the file's values."""
    conf = write_config(tmp_path / "c.toml",
                        '[http]\nlisten = ["tcp:1234"]\n[store]\npath = "/from/file"\n')
    opts = Options()
    opts.parseOptions(["--config", str(conf), "--http", "tcp:8081", "--http",
                       "tcp:8082:interface=127.0.0.1", "--db", str(tmp_path / "x.sqlite")])
    assert {k: opts[k] for k in ("config", "http", "db")} == {
        "config": str(conf), "http": ["tcp:8081", "tcp:8082:interface=127.0.0.1"],
        "db": str(tmp_path / "x.sqlite")}
    assert opts.settings is not None
    assert opts.settings.http.listen == ("tcp:8081", "tcp:8082:interface=127.0.0.1")
    assert opts.settings.store.path == str(tmp_path / "x.sqlite")


def test_options_without_overrides_use_the_file(tmp_path: Path) -> None:
    """Without --http/--db the file decides."""
    conf = write_config(tmp_path / "c.toml",
                        '[http]\nlisten = ["tcp:1234"]\n[store]\npath = "/from/file"\n')
    opts = Options()
    opts.parseOptions(["--config", str(conf)])
    assert opts["http"] == [] and opts["db"] is None
    assert opts.settings.http.listen == ("tcp:1234",)
    assert opts.settings.store.path == "/from/file"


def test_bad_config_is_one_usage_error_listing_every_problem(tmp_path: Path) -> None:
    """Every bad key of the file (and of the overrides) is in the one UsageError."""
    conf = write_config(tmp_path / "c.toml", 'log_level = "loud"\ncolour = 1\n'
                        '[http]\nthreads = 0\n[server]\nauth_types = ["x"]\n')
    with pytest.raises(usage.UsageError) as info:
        Options().parseOptions(["--config", str(conf), "--http", "tcp:notaport"])
    text = str(info.value)
    assert "5 problems" in text
    for fragment in ("log_level", "colour", "threads", "auth_types", "--http"):
        assert fragment in text


def test_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    """A --config naming no file fails at option parsing."""
    with pytest.raises(usage.UsageError, match="cannot read"):
        Options().parseOptions(["--config", str(tmp_path / "missing.toml")])


# -- the tree ------------------------------------------------------------------------------

class RecordingEngine:
    def handle(self, request: Any) -> Any:
        raise AssertionError("not called in these tests")


def test_tree_has_named_children_in_start_order(tmp_path: Path, store: Any) -> None:
    """build_service composes logging, store, metrics, threads, expiry, one listener per
    endpoint and the admin snapshot."""
    settings = parse_settings({}, listen=["tcp:8080:interface=127.0.0.1", "tcp:8081"])
    tree = build_service(settings, reactor=MemoryReactorClock(), store=store,
                         engine=RecordingEngine())
    assert isinstance(tree, MultiService)
    assert [c.name for c in tree] == ["logging", "store", "metrics", "engine-threads",
                                      "session-expiry", "http-0", "http-1", "admin-snapshot"]
    assert isinstance(tree.getServiceNamed("store"), StoreService)
    assert tree.getServiceNamed("engine-threads").pool.max == settings.http.threads
    assert isinstance(tree.getServiceNamed("session-expiry"), TimerService)
    listener = tree.getServiceNamed("http-0")
    assert isinstance(listener, Listener)
    assert isinstance(listener.factory, SyncSite)
    assert listener.factory.max_message_size == settings.http.max_message_size


def test_tree_starts_listeners_and_stops_cleanly(tmp_path: Path, store: Any) -> None:
    """Starting binds each endpoint on the given reactor; stopping closes the store last."""
    reactor = ThreadlessReactor()
    settings = parse_settings({"log_level": "warn"},
                              listen=["tcp:8080:interface=127.0.0.1", "tcp:8081"])
    tree = build_service(settings, reactor=reactor, store=store, engine=RecordingEngine())
    tree.privilegedStartService()
    tree.startService()
    assert [(port, interface) for port, _, _, interface in reactor.tcpServers] == [
        (8080, "127.0.0.1"), (8081, "")]
    assert logs.get_level() == "warn"
    pool = tree.getServiceNamed("engine-threads").pool
    try:
        assert pool.started
        # The expiry timer swept once at start, in the pool; deliver its result.
        assert reactor.called_from_thread.wait(timeout=10)
        reactor.run_thread_results()
        closed: list[bool] = []
        original_close = store.close
        store.close = lambda: (closed.append(True), original_close())[1]
        d = tree.stopService()
        assert d.called and closed == [True]
        assert not pool.started
        assert all(not c.running for c in tree)
    finally:
        if pool.started:
            pool.stop()


def test_stop_order_is_reverse_and_waits_for_each_child() -> None:
    """A child stops only after the one started after it has finished stopping."""
    events: list[str] = []
    gates: dict[str, Deferred[None]] = {}

    class Child(Service):
        def __init__(self, name: str):
            self.name = name

        def stopService(self) -> Deferred[None]:
            super().stopService()
            events.append(f"stop {self.name}")
            gates[self.name] = Deferred()
            return gates[self.name]

    tree = OrderedMultiService()
    for name in ("store", "threads", "http"):
        Child(name).setServiceParent(tree)
    tree.startService()
    done = tree.stopService()
    assert events == ["stop http"]
    gates["http"].callback(None)
    assert events == ["stop http", "stop threads"]
    gates["threads"].callback(None)
    gates["store"].callback(None)
    assert events == ["stop http", "stop threads", "stop store"]
    assert done.called


def test_a_failing_child_stop_is_logged_and_the_rest_still_stop() -> None:
    """One child's failure does not keep the store from closing."""
    stopped: list[str] = []

    class Good(Service):
        def stopService(self) -> None:
            super().stopService()
            stopped.append(self.name)

    class Bad(Service):
        def stopService(self) -> None:
            raise RuntimeError("boom")

    tree = OrderedMultiService()
    good = Good()
    good.setName("store")
    good.setServiceParent(tree)
    bad = Bad()
    bad.setName("http")
    bad.setServiceParent(tree)
    tree.startService()
    with capturedLogs() as events:
        d = tree.stopService()
    assert d.called and stopped == ["store"]
    assert any("log_failure" in e and e.get("name") == "http" for e in events)


def test_unbuildable_listener_is_a_config_error(tmp_path: Path, store: Any) -> None:
    """An ssl: endpoint whose key file is missing is reported before start."""
    settings = parse_settings({}, listen=[f"ssl:8443:privateKey={tmp_path}/nokey.pem"])
    with pytest.raises(ConfigError, match="nokey.pem"):
        build_service(settings, reactor=MemoryReactorClock(), store=store,
                      engine=RecordingEngine())


# -- bootstrap accounts and session expiry ---------------------------------------------------

def test_bootstrap_creates_absent_accounts_only(store: Any) -> None:
    """Configured accounts are created once; a later password change survives restarts."""
    users = [BootstrapUser(name="demo", password="demo"), BootstrapUser(name="ann", password="a")]
    assert bootstrap_users(store, users) == ["demo", "ann"]
    with store.transaction() as tx:
        assert tx.get_account("demo") == Account(username="demo", secret=make_secret("demo", "demo"))
        tx.put_account(Account(username="demo", secret=make_secret("demo", "changed")))
    assert bootstrap_users(store, users) == []
    with store.transaction() as tx:
        assert tx.get_account("demo").secret == make_secret("demo", "changed")


def test_sweep_expires_sessions(store: Any) -> None:
    """The periodic sweep deletes sessions whose expiry passed and keeps the others."""
    clock = MemoryReactorClock()
    clock.advance(1000)
    with store.transaction() as tx:
        tx.save_session("old", b"state", expires=999.0)
        tx.save_session("new", b"state", expires=2000.0)
    with capturedLogs() as events:
        d = sweep(store, maybeDeferred, clock)
    assert d.called
    with store.transaction() as tx:
        assert tx.load_session("old") is None
        assert tx.load_session("new") == b"state"
    assert any(e.get("count") == 1 for e in events)


def test_sweep_failure_is_logged_and_does_not_stop_the_timer() -> None:
    """A store error in one sweep is logged; the Deferred succeeds so the loop goes on."""

    class BrokenStore:
        def transaction(self) -> Any:
            raise OSError("disk gone")

    with capturedLogs() as events:
        d = sweep(BrokenStore(), maybeDeferred, MemoryReactorClock())
    results: list[Any] = []
    d.addBoth(results.append)
    assert results == [None]
    assert any("log_failure" in e for e in events)


# -- makeService -------------------------------------------------------------------------------

def test_make_service_opens_store_and_bootstraps(tmp_path: Path) -> None:
    """makeService creates the store's directory and the configured accounts."""
    db = tmp_path / "var" / "sub" / "omads.sqlite"
    conf = write_config(tmp_path / "c.toml",
                        f'[store]\npath = "{db}"\n[[user]]\nname = "demo"\npassword = "demo"\n')
    opts = Options()
    opts.parseOptions(["--config", str(conf)])
    tree = makeService(opts)
    try:
        assert db.exists()
        assert [c.name for c in tree][:2] == ["logging", "store"]
        with tree.getServiceNamed("store").store.transaction() as tx:
            assert tx.get_account("demo") is not None
    finally:
        tree.getServiceNamed("store").store.close()


def test_make_service_with_unusable_store_is_usage_error(tmp_path: Path) -> None:
    """A store path that cannot be created fails before twistd starts anything."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    opts = Options()
    opts.parseOptions(["--db", str(blocker / "sub" / "omads.sqlite")])
    with pytest.raises(usage.UsageError, match="store"):
        makeService(opts)


def test_plugin_is_found() -> None:
    """twistd finds the omads-gateway plugin, which names gateway.service."""
    import twisted.plugins
    makers = {p.tapname: p for p in getPlugins(IServiceMaker, twisted.plugins)}
    assert "omads-gateway" in makers
    assert makers["omads-gateway"].module == "gateway.service"
    assert not (ROOT / "twisted" / "__init__.py").exists()
    assert not (ROOT / "twisted" / "plugins" / "__init__.py").exists()


# -- a real twistd process -------------------------------------------------------------------------

def _read_until(proc: subprocess.Popen[str], pattern: str, lines: list[str],
                timeout: float) -> re.Match[str] | None:
    """Read the process's output until a line matches (bounded by ``timeout``)."""
    found: list[re.Match[str]] = []
    done = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = re.search(pattern, line)
            if m:
                found.append(m)
                break
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    done.wait(timeout)
    return found[0] if found else None


def _drain(proc: subprocess.Popen[str], lines: list[str]) -> threading.Thread:
    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t


@pytest.mark.timeout(60)
def test_twistd_serves_root_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``twistd -n omads-gateway --config X`` answers GET / and stops cleanly on SIGTERM."""
    conf = write_config(tmp_path / "c.toml", f"""
[http]
listen = ["tcp:0:interface=127.0.0.1"]
[store]
path = "{tmp_path}/var/omads.sqlite"
[[user]]
name = "demo"
password = "demo"
""")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [str(TWISTD), "-n", "--pidfile=", "omads-gateway", "--config", str(conf)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        m = _read_until(proc, r"SyncSite starting on (\d+)", lines, timeout=30)
        assert m is not None, "".join(lines)
        port = int(m.group(1))
        drain = _drain(proc, lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            page = response.read().decode()
            assert response.status == 200
        assert f"http://127.0.0.1:{port}/sync" in page
        proc.send_signal(signal.SIGTERM)
        # twistd stops the tree, then re-raises the signal it was stopped by (app.py
        # _exitSignal), so a clean stop ends in -SIGTERM, as systemd expects.
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
        drain.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    output = "".join(lines)
    assert "Traceback" not in output
    assert "created bootstrap accounts: demo" in output
    assert "Main loop terminated" in output
    assert "(TCP Port" in output and "Closed" in output   # the listener was stopped


@pytest.mark.timeout(60)
def test_twistd_with_bad_config_exits_nonzero_listing_problems(tmp_path: Path) -> None:
    """A bad file makes twistd print every problem and exit non-zero without starting."""
    conf = write_config(tmp_path / "c.toml", 'log_level = "loud"\n[http]\nthreads = -2\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [str(TWISTD), "-n", "--pidfile=", "omads-gateway", "--config", str(conf)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "2 problems" in output and "log_level" in output and "threads" in output
    assert not (tmp_path / "var").exists()


@pytest.mark.timeout(60)
def test_twistd_with_a_port_in_use_exits_nonzero_with_one_line(tmp_path: Path) -> None:
    """A listener that cannot bind stops the start: exit 1, one log line naming the
    listener, the endpoint and the reason, no traceback."""
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        result = subprocess.run(
            [str(TWISTD), "-n", "--pidfile=", "omads-gateway", "--db",
             str(tmp_path / "omads.sqlite"), "--http", f"tcp:{port}:interface=127.0.0.1"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "cannot listen" in line]
    assert len(lines) == 1, output
    assert f"http-0: cannot listen on tcp:{port}:interface=127.0.0.1: " in lines[0]
    assert "Address already in use" in lines[0] and "not starting" in lines[0]


def test_every_listener_is_made_by_the_one_helper(store: Any) -> None:
    """HTTP, OBEX endpoint and admin listeners are all ``Listener``s, named, in the
    documented order after the core services ([notify] admin_listen is the admin one)."""
    from gateway.transport.listen import Listener
    settings = parse_settings({
        "obex": {"listen": ["tcp:6500:interface=127.0.0.1", "serial:/dev/nonexistent-tty"]},
        "notify": {"enabled": True, "udp": {}, "admin_listen": ["tcp:8081:interface=127.0.0.1"]},
    }, listen=["tcp:8080:interface=127.0.0.1"])
    tree = build_service(settings, reactor=MemoryReactorClock(), store=store,
                         engine=RecordingEngine())
    assert [c.name for c in tree] == ["logging", "store", "metrics", "engine-threads",
                                      "session-expiry", "http-0", "obex-0", "obex-1", "notify",
                                      "admin-snapshot", "admin-0"]
    assert [c.name for c in tree if isinstance(c, Listener)] == ["http-0", "obex-0",
                                                                 "admin-0"]
    assert tree.getServiceNamed("admin-0").description == "tcp:8081:interface=127.0.0.1"


def test_unbuildable_obex_and_admin_listeners_are_config_errors(tmp_path: Path,
                                                                store: Any) -> None:
    """A bad OBEX or admin endpoint fails before start, naming its setting."""
    for doc, where in (
            ({"obex": {"listen": [f"ssl:6501:privateKey={tmp_path}/k.pem"]}}, "[obex] listen"),
            ({"notify": {"enabled": True, "udp": {}},
              "admin": {"listen": [f"ssl:8082:interface=127.0.0.1:privateKey={tmp_path}/k.pem"]}},
             "[admin] listen")):
        with pytest.raises(ConfigError) as info:
            build_service(parse_settings(doc), reactor=MemoryReactorClock(), store=store,
                          engine=RecordingEngine())
        assert info.value.source == where and "k.pem" in info.value.problems[0]
