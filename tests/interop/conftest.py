"""Fixtures that start real SyncEvolution peers on 127.0.0.1 (see tests/interop/syncevo.py)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.interop.syncevo import SyncEvoClient, SyncEvoServer, build_securlfix


@pytest.fixture(scope="session")
def securlfix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client's LD_PRELOAD shim, compiled once per test session."""
    return build_securlfix(tmp_path_factory.mktemp("securlfix"))


@pytest.fixture
def syncevo_client_factory(tmp_path: Path, securlfix: Path) -> Callable[..., SyncEvoClient]:
    """``make(url=..., device_id=..., **kw)`` -> a configured-on-first-sync SyncEvoClient."""
    count = 0

    def make(**kwargs: object) -> SyncEvoClient:
        nonlocal count
        count += 1
        kwargs.setdefault("workdir", tmp_path / f"client{count}")
        kwargs.setdefault("device_id", f"sc-client-{count}")
        return SyncEvoClient(shim=securlfix, **kwargs)

    return make


@pytest.fixture
def syncevo_server(tmp_path: Path) -> Iterator[Callable[..., SyncEvoServer]]:
    """``start(device_ids, **kw)`` -> a running SyncEvoServer; all are stopped at teardown."""
    servers: list[SyncEvoServer] = []

    def start(device_ids: list[str] | tuple[str, ...], **kwargs: object) -> SyncEvoServer:
        kwargs.setdefault("workdir", tmp_path / f"server{len(servers) + 1}")
        server = SyncEvoServer(device_ids=device_ids, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def gateway(tmp_path: Path):
    """A running ``twistd omads-gateway`` on a free 127.0.0.1 port (tests.interop.gateway)."""
    from tests.interop.gateway import Gateway

    gw = Gateway(tmp_path / "gateway")
    yield gw
    gw.stop()
