"""Engine throughput: slow sync of N contacts each way through SyncServer.handle (bytes).

Usage: .venv/bin/python bench/ds_engine.py [N] [MaxMsgSize]   -- prints figures only.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.ds.server import SyncServer  # noqa: E402
from gateway.ds.settings import ServerSettings  # noqa: E402
from gateway.store.accounts import make_secret  # noqa: E402
from gateway.store.base import Account  # noqa: E402
from gateway.store.sqlite import SQLiteStore  # noqa: E402
from gateway.syncml import codec  # noqa: E402
from tests.ds.simclient import SimClient, vcard  # noqa: E402


def run(n: int, max_msg: int, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        store = SQLiteStore(Path(d) / "bench.db")
        with store.transaction() as tx:
            tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
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


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 150000
    for enc in (codec.XML, codec.WBXML):
        run(count, size, enc)
        run(count, 10240, enc)
