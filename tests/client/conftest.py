"""Fixtures for client tests: the interop peers (real SyncEvolution server, our gateway
daemon) and ``gw``, an in-process gateway store with the account alice/secret."""

import pytest

from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.sqlite.store import SQLiteStore
from tests.interop.conftest import gateway, syncevo_server  # noqa: F401  (fixtures)


@pytest.fixture
def gw(tmp_path):
    store = SQLiteStore(tmp_path / "gw.db")
    with store.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    yield store
    store.close()
