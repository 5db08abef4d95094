"""Delivery reports from the real Kannel 1.4 (bearerbox + smsbox + wapbox + fakesmsc).

What Kannel reports with its fake SMSC (measured; gw/smsc/smsc_fake.c): for every message
sent with a dlr-mask, bearerbox makes type 8 (``ACK/``) when the fake SMSC takes it and
type 1 (empty answer) right after: the fake SMSC "delivers". A number the SMSC group
refuses (``denied-prefix``) gets type 16 ``NACK/no SMSC``: sendsms answers 403 at once,
the PPG accepts the push (1001) and the report is the only sign of failure.

In process (service, carriers and admin listener on real sockets) and then through the
gateway daemon (twistd) with its configured admin endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater

from bench.peers import start_gateway
from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import san as sanlib
from gateway.notify.udh import Reassembler, decode_udh
from gateway.store.notifications import DELIVERED, FAILED, SENT
from gateway.transport.notify.http import make_admin_site
from gateway.transport.notify.carriers.kannel import KannelCarrier
from gateway.transport.notify.carriers.pap import PAPCarrier
from gateway.transport.notify.service import NotifyService
from gateway.config.notify import KannelSettings, PAPSettings
from tests.notify_service import test_kannel as tk
from tests.notify_service.helpers import (NONCE, PASSWORD, check_push, device, free_port,
                                          need, open_store, queue, settings, sync_run)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

DENIED = "+4999123"
CONF = tk.CONF.replace("connect-allow-ip = 127.0.0.1\n",
                       'connect-allow-ip = 127.0.0.1\ndenied-prefix = "+4999"\n', 1)
assert CONF != tk.CONF


class Kannel(tk.Kannel):
    def __init__(self, work):
        super().__init__(work)
        (work / "k.conf").write_text(CONF.format(**self.ports))


@pytest.fixture(scope="module")
def kannel(tmp_path_factory):
    need("/usr/sbin/bearerbox", "/usr/sbin/smsbox", "/usr/sbin/wapbox", tk.FAKESMSC)
    k = Kannel(tmp_path_factory.mktemp("kannel-dlr"))
    try:
        k.start()
        yield k
    finally:
        k.stop()


def carriers(k):
    ks = KannelSettings(url=f"http://127.0.0.1:{k.ports['sendsms']}/cgi-bin/sendsms",
                        username="tester", password="foobar", sender="4321", dlr=True)
    ps = PAPSettings(url=f"http://127.0.0.1:{k.ports['ppg']}/cgi-bin/wap-push.cgi",
                     username="foo", password="bar", ppg_host="ppg.example", dlr=True)
    return ks, ps


@inlineCallbacks
def wait_settled(store, nid, timeout=30.0):
    """Poll the queue until the notification leaves queued/sent (bounded)."""
    for _ in range(int(timeout / 0.05)):
        n = queue(store, lambda q: q.get(nid))
        if n.state in (DELIVERED, FAILED):
            return n
        yield deferLater(reactor, 0.05, lambda: None)
    raise AssertionError(f"notification {nid} still {n.state} after {timeout} s: {n}")


def stored_reports(store, nid):
    return queue(store, lambda q: q._db.execute(
        "SELECT attempt, part, status, answer FROM notify_reports WHERE notification_id = ?"
        " ORDER BY attempt, part, status", (nid,)).fetchall())


@pytest_twisted.inlineCallbacks
def test_sendsms_and_ppg_reports_settle_notifications(kannel, tmp_path):
    store = open_store(tmp_path)
    ks, ps = carriers(kannel)
    port = free_port()
    svc = NotifyService(settings(poll_interval=0.05, max_attempts=2, retry_delay=0.2,
                                 dlr_url_base=f"http://127.0.0.1:{port}", kannel=ks, pap=ps),
                        server_id="s" * 200, datastores=DEFAULT_DATASTORES, reactor=reactor,
                        store=store, run=sync_run,
                        carriers={"kannel": KannelCarrier(ks, reactor=reactor),
                                  "pap": PAPCarrier(ps, reactor=reactor)})
    listener = reactor.listenTCP(port, make_admin_site(svc, datastores=DEFAULT_DATASTORES,
                                                       token="admin-only"),
                                 interface="127.0.0.1")
    for nd in (device("K", "kannel:+4912345678"), device("P", "pap:+4912345678"),
               device("X", f"pap:{DENIED}")):
        queue(store, lambda q, nd=nd: q.put_device(nd))
    svc.startService()
    try:
        before = len(kannel.messages())
        nid = queue(store, lambda q: q.enqueue(device_id="K", datastores=("contacts",),
                                               via=None, now=reactor.seconds()))[0].id
        n = yield wait_settled(store, nid)
        # a 200-character server id makes a 2-part push: the gateway split it itself
        assert n.state == DELIVERED and n.attempts == 1 and n.report_parts == 2
        assert n.report == ("part 1/2: delivered to the phone; "
                            "part 2/2: delivered to the phone")
        assert n.report_time is not None and "awaiting delivery reports" in n.reason
        assert stored_reports(store, nid) == [(1, 1, 1, ""), (1, 1, 8, "ACK/"),
                                              (1, 2, 1, ""), (1, 2, 8, "ACK/")]
        parts = kannel.wait_messages(before + 2)[before:before + 2]
        joiner, whole = Reassembler(), None
        for sender, receiver, udh, data in parts:
            header, _ = decode_udh(udh)
            assert (sender, receiver) == ("4321", "+4912345678")
            assert header.concat.ref == nid & 0xFF and header.concat.total == 2
            whole = joiner.add(sender=sender, udh=header, data=data, now=0.0) or whole
        san = check_push(whole.data)
        assert sanlib.verify_san(san, password=PASSWORD, nonce=NONCE)
        assert sanlib.decode_san(san).session_id == nid

        nid = queue(store, lambda q: q.enqueue(device_id="P", datastores=(), via=None,
                                               now=reactor.seconds()))[0].id
        n = yield wait_settled(store, nid)
        assert n.state == DELIVERED and n.report == "delivered to the phone"
        assert n.reason.startswith("PAP 1001")
        assert [r[2] for r in stored_reports(store, nid)] == [1, 8]

        # the PPG accepts a push to a number Kannel cannot route; only the report tells
        nid = queue(store, lambda q: q.enqueue(device_id="X", datastores=(), via=None,
                                               now=reactor.seconds()))[0].id
        n = yield wait_settled(store, nid)
        assert n.state == FAILED and n.attempts == 2        # retried once, as configured
        assert n.report == "rejected by the SMSC (NACK/no SMSC)"
        assert n.reason == "delivery report: rejected by the SMSC (NACK/no SMSC)"
        assert stored_reports(store, nid) == [(1, 1, 16, "NACK/no SMSC"),
                                              (2, 1, 16, "NACK/no SMSC")]
    finally:
        yield listener.stopListening()
        yield svc.stopService()
        store.close()


def test_daemon_admin_endpoint_takes_kannel_reports(kannel, tmp_path: Path):
    admin_port = free_port()
    k = kannel.ports

    def config(port: int, db: Path) -> str:
        return f"""
[http]
listen = ["tcp:{port}:interface=127.0.0.1"]
[store]
path = "{db}"
[server]
server_id = "omads-test"
[notify]
enabled = true
admin_listen = ["tcp:{admin_port}:interface=127.0.0.1"]
admin_token = "secret-admin"
poll_interval = 0.2
[notify.kannel]
url = "http://127.0.0.1:{k['sendsms']}/cgi-bin/sendsms"
username = "tester"
password = "foobar"
sender = "4321"
dlr = true
[[notify.device]]
id = "IMEI:1"
routes = ["kannel:+4912345678"]
server_password = "{PASSWORD}"
nonce = "{NONCE.decode()}"
"""
    gw = start_gateway(free_port(), tmp_path / "omads.sqlite", tmp_path, config=config)
    auth = {"Authorization": "Bearer secret-admin"}
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{admin_port}/notify", method="POST", headers=auth,
            data=json.dumps({"device": "IMEI:1", "datastores": ["contacts"]}).encode())
        with urllib.request.urlopen(request, timeout=10) as r:
            nid = json.load(r)["id"]
        doc = {}
        tk.peers.wait_for(lambda: _state(admin_port, nid, auth, doc) in (DELIVERED, FAILED),
                          30, f"notification {nid} settled by a delivery report")
        assert doc["state"] == DELIVERED and doc["report_parts"] == 1
        assert doc["report"] == "delivered to the phone" and doc["report_time"] > 0
        done = subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config",
                               str(tmp_path / "omads-gateway.toml"), "device", "notify-status",
                               str(nid)], capture_output=True, text=True, timeout=30,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr
        fields = done.stdout.rstrip("\n").split("\t")
        assert fields[2] == DELIVERED and fields[5] == "route=kannel:+4912345678"
        assert fields[6].startswith("report=") and fields[6].endswith(" delivered to the phone")
    finally:
        gw.stop()
    log = gw.log.read_text("utf-8", "replace")
    assert "Traceback" not in log
    assert f"notification {nid}: delivery report part 1 type 1 (recorded), now delivered" in log


def _state(port, nid, headers, doc):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/notify/{nid}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as r:
        doc.update(json.load(r))
    return doc["state"] if doc["state"] != SENT else None
