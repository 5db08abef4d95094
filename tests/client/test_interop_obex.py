"""omads-sync over OBEX (TCP and a serial line) against the gateway daemon's OBEX listeners:
every mode, with both stores compared after each step."""

from __future__ import annotations

import shutil

import pytest

from bench.peers import start_gateway
from gateway.store.sqlite.store import SQLiteStore
from tests.client.scenario import walk_all_modes
from tests.interop.gateway import USER, interop_config
from tests.interop.syncevo import free_port
from tests.obex_links.conftest import PtyPair


@pytest.fixture
def obex_gateway(tmp_path):
    assert shutil.which("socat"), "socat (Debian package socat) is required"
    pair = PtyPair(tmp_path)
    obex_port = free_port()

    def config(port, db):
        return interop_config(port, db) + (
            f'\n[obex]\nlisten = ["tcp:{obex_port}:interface=127.0.0.1", '
            f'"serial:{pair.ours}"]\nidle_timeout = 30\n')
    db = tmp_path / "gw.sqlite"
    proc = start_gateway(free_port(), db, tmp_path / "gw", config=config)
    store = SQLiteStore(db)
    yield obex_port, pair, store
    store.close()
    proc.stop()
    pair.close()


def items(store) -> dict[str, bytes]:
    with store.transaction() as tx:
        return {i.guid: bytes(i.data) for i in tx.list_items(USER, "contacts")}


def add(store, card: bytes) -> None:
    import time
    with store.transaction() as tx:
        tx.add_item(USER, "contacts", data=card, content_type="text/vcard", now=time.time())


@pytest.mark.parametrize("link,encoding", [("tcp", "wbxml"), ("serial", "xml")])
def test_every_mode_over_obex(link, encoding, obex_gateway, tmp_path):
    obex_port, pair, store = obex_gateway
    via = f"tcp:127.0.0.1:{obex_port}" if link == "tcp" else f"serial:{pair.theirs}"
    walk_all_modes(link=("--obex", via), store=tmp_path / "items", auth="md5",
                   encoding=encoding, device=f"omads-obex-{link}",
                   server_items=lambda: items(store), server_add=lambda c: add(store, c))
