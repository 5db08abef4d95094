"""Start the real gateway (``twistd omads-gateway``) for interop tests, and look into its store."""

from __future__ import annotations

import time
from pathlib import Path

from bench.peers import GatewayProcess, start_gateway
from gateway.store.sqlite.store import SQLiteStore
from tests.interop.syncevo import free_port

USER, PASSWORD = "alice", "secret"

# Datastores of the interop gateway: one per conflict policy, so one gateway serves
# every scenario (the client picks the datastore through its ``uri``).
POLICIES = {
    "contacts": "newer-wins",
    "contacts-server-wins": "server-wins",
    "contacts-client-wins": "client-wins",
    "contacts-duplicate": "duplicate",
    "contacts-merge": "merge",
}


def interop_config(port: int, db_path: Path) -> str:
    stores = "".join(
        f"""
[[datastore]]
name = "{name}"
aliases = {'["addressbook", "card"]' if name == "contacts" else "[]"}
content_types = ["text/vcard:3.0", "text/x-vcard:2.1"]
conflict_policy = "{policy}"
merge = {"true" if policy in ("newer-wins", "merge") else "false"}
""" for name, policy in POLICIES.items())
    return f"""\
log_level = "info"

[http]
listen = ["tcp:{port}:interface=127.0.0.1"]

[store]
path = "{db_path}"

[server]
auth_types = ["syncml:auth-md5", "syncml:auth-basic"]
max_failed_logins = 50
{stores}
[[datastore]]
name = "calendar"
aliases = ["events"]
content_types = ["text/calendar:2.0", "text/x-vcalendar:1.0"]

[[datastore]]
name = "tasks"
aliases = ["todo"]
content_types = ["text/calendar:2.0", "text/x-vcalendar:1.0"]

[[datastore]]
name = "notes"
aliases = ["memo"]
content_types = ["text/plain:1.0", "text/x-vnote:1.1"]

[[user]]
name = "{USER}"
password = "{PASSWORD}"
"""


class Gateway:
    """A running gateway plus direct access to its SQLite database."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.db = workdir / "omads.sqlite"
        self.port = free_port()
        self.process: GatewayProcess = start_gateway(self.port, self.db, workdir,
                                                     config=interop_config)
        self._store: SQLiteStore | None = None

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def store(self) -> SQLiteStore:
        if self._store is None:
            self._store = SQLiteStore(self.db)
        return self._store

    def items(self, datastore: str = "contacts") -> dict[str, bytes]:
        with self.store.transaction() as tx:
            return {it.guid: it.data for it in tx.list_items(USER, datastore)}

    def add(self, data: bytes, datastore: str = "contacts") -> str:
        with self.store.transaction() as tx:
            return tx.add_item(USER, datastore, data=data, content_type="text/vcard",
                               now=time.time()).guid

    def replace(self, guid: str, data: bytes, datastore: str = "contacts") -> None:
        with self.store.transaction() as tx:
            tx.replace_item(USER, datastore, guid, data=data, content_type="text/vcard",
                            now=time.time())

    def delete(self, guid: str, datastore: str = "contacts") -> None:
        with self.store.transaction() as tx:
            assert tx.delete_item(USER, datastore, guid, now=time.time())

    def restart(self) -> None:
        """Stop the daemon and start it again on the same port and database."""
        self.process.stop()
        self.process = start_gateway(self.port, self.db, self.workdir, config=interop_config)

    def log(self) -> str:
        return self.process.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        if self._store is not None:
            self._store.close()
        self.process.stop()
