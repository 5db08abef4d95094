"""The pieces of the end-to-end notification tests: a gateway daemon with ``[notify]`` and
direct access to its store, ``omads-admin``, and an ``omads-sync listen`` profile."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.peers import GatewayProcess, start_gateway
from gateway.store.sqlite.store import SQLiteStore
from tests.client.listenproc import ListenProc
from tests.client.runcli import folder_items
from tests.interop.vcards import make_vcards
from tests.notify_service.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_ID = "omads-e2e"            # the gateway's [server] server_id
SAN_PASSWORD = "san-secret"        # the SAN digest key of the device, on both sides
NONCE = "e2e-nonce"                # the gateway's nonce text (the profile holds its base64)
DEVICE = "omads-e2e-phone"         # the client's device id = the device the gateway notifies
USER, PASSWORD = "alice", "secret"


def gateway_config(admin_port: int, devices: str = ""):
    """A ``start_gateway`` config: one contacts datastore, alice/secret, [notify] with UDP
    and SIP carriers and the HTTP admin endpoint; ``devices``: [[notify.device]] tables."""
    def config(port: int, db: Path) -> str:
        return f"""\
log_level = "info"
[http]
listen = ["tcp:{port}:interface=127.0.0.1"]
[store]
path = "{db}"
[server]
server_id = "{SERVER_ID}"
auth_types = ["syncml:auth-md5", "syncml:auth-basic"]
[[datastore]]
name = "contacts"
aliases = ["addressbook"]
content_types = ["text/vcard:3.0", "text/x-vcard:2.1"]
[[user]]
name = "{USER}"
password = "{PASSWORD}"
[notify]
enabled = true
admin_listen = ["tcp:{admin_port}:interface=127.0.0.1"]
poll_interval = 0.2
retry_delay = 1.0
[notify.udp]
bind = "127.0.0.1"
[notify.sip]
transport = "udp"
from_uri = "sip:omads@127.0.0.1"
local_host = "127.0.0.1"
{devices}"""
    return config


class NotifyGateway:
    """A running ``twistd omads-gateway`` with notifications, its store and omads-admin."""

    def __init__(self, workdir: Path, port: int, admin_port: int, devices: str = ""):
        self.workdir = workdir
        self.db = workdir / "omads.sqlite"
        self.admin_port = admin_port
        self.conf = workdir / "omads-gateway.toml"
        self.process: GatewayProcess = start_gateway(
            port, self.db, workdir, config=gateway_config(admin_port, devices))
        self.store = SQLiteStore(self.db)

    @property
    def url(self) -> str:
        return self.process.url

    def add_contacts(self, n: int, seed: int) -> dict[str, bytes]:
        cards = make_vcards(n, seed=seed)
        with self.store.transaction() as tx:
            for card in cards.values():
                tx.add_item(USER, "contacts", data=card, content_type="text/vcard",
                            now=time.time())
        return cards

    def items(self) -> dict[str, bytes]:
        with self.store.transaction() as tx:
            return {it.guid: it.data for it in tx.list_items(USER, "contacts")}

    def synced(self, device_id: str) -> tuple[object, object]:
        """What the gateway knows of the device: (its Device row, its contacts SyncState)."""
        with self.store.transaction() as tx:
            return (tx.get_device(device_id),
                    tx.get_sync_state(device_id, USER, "contacts"))

    def admin(self, *argv: str) -> str:
        done = subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config",
                               str(self.conf), "device", *argv], capture_output=True,
                              text=True, timeout=30, cwd=ROOT, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def post_notify(self, doc: dict) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.admin_port}/notify", method="POST",
            data=json.dumps(doc).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 202
            return json.load(r)

    def notification(self, notification_id: int) -> dict:
        url = f"http://127.0.0.1:{self.admin_port}/notify/{notification_id}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)

    def wait_done(self, notification_id: int, timeout: float = 30) -> dict:
        """The notification once it left "queued" (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            doc = self.notification(notification_id)
            if doc["state"] != "queued":
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"notification still queued: {doc}\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.process.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        self.store.close()
        self.process.stop()


def write_profile(path: Path, *, url: str, store: Path, carrier: str,
                  san_password: str = SAN_PASSWORD, nonce: str | None = None) -> Path:
    """The ``omads-sync`` profile ``e2e``: the gateway's server id, SAN password and nonce,
    and ``carrier`` (``udp`` or ``sip``) listening on a port the system picks; ``nonce``
    (the profile's text) defaults to the base64 of the gateway's nonce."""
    if nonce is None:
        nonce = base64.b64encode(NONCE.encode()).decode()
    path.write_text(f"""\
[profile.e2e]
url = "{url}"
user = "{USER}"
password = "{PASSWORD}"
device_id = "{DEVICE}"

[[profile.e2e.datastore]]
remote = "contacts"
store = "{store}"
type = "text/vcard"

[profile.e2e.notify]
server_id = "{SERVER_ID}"
server_password = "{san_password}"
nonce = "{nonce}"
{carrier} = "127.0.0.1:0"
""", "utf-8")
    return path


def start_listener(workdir: Path, profile: Path, banner: str) -> tuple[ListenProc, int]:
    """``omads-sync listen --once --profile e2e`` and the port its ``banner`` names."""
    proc = ListenProc(workdir, "--config", str(profile), "--profile", "e2e")
    pattern = re.compile(re.escape(banner) + r" 127\.0\.0\.1:(\d+)\n")
    deadline = time.monotonic() + 30
    try:
        while (m := pattern.search(proc.stderr)) is None:
            if proc.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"listener never said {banner!r}:\n{proc.stderr}")
            time.sleep(0.05)
    except BaseException:
        proc.stop()
        raise
    return proc, int(m.group(1))


def queued_id(admin_output: str) -> int:
    m = re.match(r"queued notification (\d+) for " + re.escape(DEVICE), admin_output)
    assert m, admin_output
    return int(m.group(1))


def items_in(folder: Path) -> dict[str, bytes]:
    return folder_items(folder) if folder.exists() else {}


def check_clean(gw: NotifyGateway, *logs: str) -> None:
    for text in (gw.log(), *logs):
        assert "Traceback" not in text, text


BANNERS = {"udp": "WDP/UDP on", "sip": "SIP/UDP on"}


@dataclass(frozen=True, kw_only=True)
class Pair:
    gw: NotifyGateway
    proc: ListenProc
    listen_port: int          # where the listener waits for notifications
    folder: Path              # the listener's contacts folder


@contextmanager
def gateway_and_listener(workdir: Path, carrier: str,
                         devices: Callable[[int], str] = lambda port: "") -> Iterator[Pair]:
    """``omads-sync listen`` on ``carrier`` (udp or sip) and a gateway daemon whose
    ``[[notify.device]]`` text ``devices`` makes from the listener's port; both stopped
    after, and (when the body passed) neither may have logged a traceback."""
    folder = workdir / "contacts"
    port, admin_port = free_port(), free_port()
    profile = write_profile(workdir / "profiles.toml", url=f"http://127.0.0.1:{port}/sync",
                            store=folder, carrier=carrier)
    proc, listen_port = start_listener(workdir, profile, BANNERS[carrier])
    gw = None
    try:
        gw = NotifyGateway(workdir / "gw", port, admin_port, devices=devices(listen_port))
        yield Pair(gw=gw, proc=proc, listen_port=listen_port, folder=folder)
    finally:
        proc.stop()
        if gw is not None:
            gw.stop()
    check_clean(gw, proc.stderr)
