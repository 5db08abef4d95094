import pytest

from gateway.ds.server.handler import SyncServer
from gateway.ds.settings import ServerSettings
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.memory import FakeStore


def _counter_random():
    state = {"n": 0}

    def rnd(n: int) -> bytes:
        state["n"] += 1
        return (state["n"].to_bytes(4, "big") * (n // 4 + 1))[:n]
    return rnd


@pytest.fixture(params=["fake", "sqlite"])
def store(request, tmp_path):
    if request.param == "fake":
        st = FakeStore()
    else:
        from gateway.store.sqlite.store import SQLiteStore
        st = SQLiteStore(tmp_path / "gw.db")
    with st.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
        tx.put_account(Account(username="bob", secret=make_secret("bob", "pw")))
    yield st
    st.close()


@pytest.fixture
def make_server(store):
    def make(**kw):
        return SyncServer(ServerSettings(**kw), store, random_bytes=_counter_random())
    return make


@pytest.fixture
def server(make_server):
    return make_server()
