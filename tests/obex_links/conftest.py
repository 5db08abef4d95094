"""Fixtures: a real engine (SQLite, account alice/secret) behind the OBEX listeners on
127.0.0.1 or a serial pty pair made by socat; everything bounded in time."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.python.threadpool import ThreadPool

from gateway.ds.server.handler import SyncServer
from gateway.ds.settings import ServerSettings
from gateway.obex import ServerConfig
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.transport.obex.protocol import ObexSyncFactory, ObexSyncProtocol
from gateway.transport.pool import thread_runner


@pytest.fixture
def store(tmp_path: Path) -> Any:
    from gateway.store.sqlite.store import SQLiteStore
    st = SQLiteStore(tmp_path / "gw.db")
    with st.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    yield st
    st.close()


@pytest.fixture
def engine(store: Any) -> SyncServer:
    return SyncServer(ServerSettings(), store)


@pytest.fixture
def run() -> Any:
    from twisted.internet import reactor
    pool = ThreadPool(minthreads=0, maxthreads=4, name="obex-test-engine")
    pool.start()
    yield thread_runner(reactor, pool)
    pool.stop()


def server_config(**kw: Any) -> ServerConfig:
    kw.setdefault("idle_timeout", 10.0)
    return ServerConfig(**kw)


@pytest.fixture
def obex_tcp(engine: Any, run: Any) -> Any:
    """listen(config=None, engine=None) -> (port number, factory); closed at teardown."""
    from twisted.internet import reactor
    ports = []

    def listen(config: ServerConfig | None = None, use_engine: Any = None) -> Any:
        factory = ObexSyncFactory(engine=use_engine or engine, run=run, reactor=reactor,
                                  config=config or server_config(), base_url="obex://tcp",
                                  link="tcp-test")
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        ports.append(port)
        return port.getHost().port, factory

    yield listen
    for port in ports:
        pytest_twisted.blockon(port.stopListening())


class PtyPair:
    """``socat`` pty pair: ``ours`` for the gateway side, ``theirs`` for the client."""

    def __init__(self, workdir: Path):
        self.ours = str(workdir / "gw-tty")
        self.theirs = str(workdir / "client-tty")
        self.proc = subprocess.Popen(
            ["socat", f"pty,rawer,link={self.ours}", f"pty,rawer,link={self.theirs}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 10
        while not (os.path.exists(self.ours) and os.path.exists(self.theirs)):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def pty_pair(tmp_path: Path) -> Any:
    assert shutil.which("socat"), "socat (Debian package socat) is required"
    pair = PtyPair(tmp_path)
    yield pair
    pair.close()


@pytest.fixture
def obex_serial(engine: Any, run: Any, pty_pair: PtyPair) -> Any:
    """The gateway's serial listener on one end of a pty pair; yields (pair, service)."""
    from twisted.internet import reactor

    from gateway.transport.obex.links import ListenSpec, SerialListenerService
    spec = ListenSpec(kind="serial", text=f"serial:{pty_pair.ours}", device=pty_pair.ours)
    svc = SerialListenerService(spec, reactor=reactor, make_protocol=lambda: ObexSyncProtocol(
        engine=engine, run=run, reactor=reactor, config=server_config(),
        base_url="obex://serial", link="serial-test", at_preamble=True, reusable=True))
    svc.startService()
    assert svc.port is not None
    yield pty_pair, svc
    svc.stopService()
