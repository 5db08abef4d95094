"""End to end with the SyncML 1.1 SAN: the gateway daemon picks the legacy form for a
device (configured ``form = "1.1"``, or ``auto`` with a stored DevInf of VerDTD 1.1),
sends it as ``application/vnd.syncml+wbxml`` over UDP (WAP push) or SIP, and
``omads-sync listen`` checks its server id and Cred and syncs; a SAN whose Cred was made
with another password is ignored.

Real processes on 127.0.0.1, as in test_notify_listen.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from gateway.store.base import Device
from gateway.syncml import codec
from gateway.syncml.devinf import DevInf
from tests.client.runcli import contacts
from tests.e2e.helpers import (DEVICE, NONCE, SAN_PASSWORD, gateway_and_listener, items_in,
                               queued_id)

pytestmark = pytest.mark.timeout(180)

LEGACY_LOG = "(SyncML 1.1 form, with good credentials): syncing"


def test_udp_legacy_form_configured_for_the_device(tmp_path: Path):
    with gateway_and_listener(tmp_path, "udp",
                              devices=lambda udp_port: f"""
[[notify.device]]
id = "{DEVICE}"
routes = ["udp:127.0.0.1:{udp_port}"]
server_password = "{SAN_PASSWORD}-not"
nonce = "{NONCE}"
form = "1.1"
""") as pair:
        gw, proc, udp_port, folder = pair.gw, pair.proc, pair.listen_port, pair.folder
        cards = gw.add_contacts(3, seed=51)
        # a Cred made with the wrong password: logged and ignored, nothing synced
        bad = queued_id(gw.admin("notify", DEVICE))
        assert gw.wait_done(bad)["state"] == "sent"
        proc.wait_for("bad credentials", timeout=30)
        assert re.search(r"ignored a notification from 127\.0\.0\.1:\d+: bad credentials "
                         r"in the SyncML 1\.1 SAN", proc.stderr), proc.stderr
        assert proc.proc.poll() is None and items_in(folder) == {}
        assert gw.synced(DEVICE) == (None, None)
        # the database setting overrides the TOML one; the form stays 1.1
        out = gw.admin("notify-setup", DEVICE, "--route", f"udp:127.0.0.1:{udp_port}",
                       "--server-password", SAN_PASSWORD, "--nonce", NONCE, "--form", "1.1")
        assert "SAN form 1.1; digest with password" in out, out
        good = queued_id(gw.admin("notify", DEVICE, "--datastore", "contacts"))
        assert proc.finish(timeout=90) == 0, proc.stderr
        assert LEGACY_LOG in proc.stderr and proc.stderr.count(": syncing") == 1
        assert contacts(items_in(folder)) == contacts(cards)
        assert gw.wait_done(good)["state"] == "sent"
        device, state = gw.synced(DEVICE)
        assert device is not None and state is not None


def test_sip_legacy_form_chosen_from_the_stored_devinf(tmp_path: Path):
    with gateway_and_listener(tmp_path, "sip") as pair:
        gw, proc, sip_port, folder = pair.gw, pair.proc, pair.listen_port, pair.folder
        cards = gw.add_contacts(2, seed=52)
        # the device synced before with SyncML 1.1: its DevInf is in the store
        old = DevInf(ver_dtd="1.1", dev_id=DEVICE, dev_typ="phone", man="Sony Ericsson",
                     mod="K750i")
        with gw.store.transaction() as tx:
            tx.put_device(Device(device_id=DEVICE, devinf=codec.encode_devinf(old, codec.XML),
                                 last_seen=time.time()))
        uri = f"sip:{DEVICE}@127.0.0.1:{sip_port}"
        out = gw.admin("notify-setup", DEVICE, "--route", uri,
                       "--server-password", SAN_PASSWORD, "--nonce", NONCE)
        assert out.startswith(f"{DEVICE}: {uri}; SAN form auto; digest with password"), out
        nid = gw.post_notify({"device": DEVICE, "datastores": ["contacts"]})["id"]
        assert proc.finish(timeout=90) == 0, proc.stderr
        assert re.search(r"notification from SIP 127\.0\.0\.1:\d+ " + re.escape(LEGACY_LOG),
                         proc.stderr), proc.stderr
        assert contacts(items_in(folder)) == contacts(cards)
        doc = gw.wait_done(nid)
        assert doc["state"] == "delivered" and doc["route"] == uri, doc
        device, state = gw.synced(DEVICE)
        assert device is not None and state is not None
        # the session stored the client's own DevInf (1.2): the next SAN is binary again
        assert codec.decode_devinf(device.devinf, codec.XML).ver_dtd == "1.2"
