"""End to end: the gateway daemon notifies ``omads-sync listen`` (a SAN in a WAP push over
UDP, or in a SIP MESSAGE), the client checks the SAN's server id and digest and syncs the
datastore it names; a SAN whose digest was made with another password is ignored.

Everything runs as real processes on 127.0.0.1: ``twistd omads-gateway`` (contacts put
straight into its store), ``omads-admin`` or the HTTP admin endpoint as the trigger, and
``python -m gateway.client.cli listen`` with a profile file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.client.runcli import contacts
from tests.client.listenproc import ListenProc
from tests.e2e.helpers import (DEVICE, NONCE, SAN_PASSWORD, gateway_and_listener, items_in,
                               queued_id, write_profile)

pytestmark = pytest.mark.timeout(180)


def test_udp_notification_from_omads_admin_starts_the_sync(tmp_path: Path):
    # the device as configured in the gateway's TOML: a UDP route to the listener
    with gateway_and_listener(tmp_path, "udp",
                              devices=lambda udp_port: f"""
[[notify.device]]
id = "{DEVICE}"
routes = ["udp:127.0.0.1:{udp_port}"]
server_password = "{SAN_PASSWORD}"
nonce = "{NONCE}"
""") as pair:
        gw, proc, udp_port, folder = pair.gw, pair.proc, pair.listen_port, pair.folder
        cards = gw.add_contacts(3, seed=41)
        assert gw.synced(DEVICE) == (None, None)
        nid = queued_id(gw.admin("notify", DEVICE))
        assert proc.finish(timeout=90) == 0, proc.stderr
        assert "notification from 127.0.0.1" in proc.stderr
        assert contacts(items_in(folder)) == contacts(cards)
        assert contacts(gw.items()) == contacts(cards)
        doc = gw.wait_done(nid)
        assert doc["state"] == "sent", doc
        assert doc["route"] == f"udp:127.0.0.1:{udp_port}" and doc["origin"] == "admin"
        device, state = gw.synced(DEVICE)
        assert device is not None and state is not None
        status = gw.admin("notify-status", str(nid)).split("\t")
        assert status[:3] == [str(nid), DEVICE, "sent"]


def test_sip_message_from_the_http_admin_endpoint_starts_the_sync(tmp_path: Path):
    with gateway_and_listener(tmp_path, "sip") as pair:
        gw, proc, sip_port, folder = pair.gw, pair.proc, pair.listen_port, pair.folder
        cards = gw.add_contacts(3, seed=42)
        # the device as set up in the database: a direct SIP route to the listener
        uri = f"sip:{DEVICE}@127.0.0.1:{sip_port}"
        out = gw.admin("notify-setup", DEVICE, "--route", uri,
                       "--server-password", SAN_PASSWORD, "--nonce", NONCE)
        assert out.startswith(f"{DEVICE}: {uri}; SAN form auto; digest with password"), out
        nid = gw.post_notify({"device": DEVICE, "datastores": ["contacts"]})["id"]
        assert proc.finish(timeout=90) == 0, proc.stderr
        assert "notification from SIP 127.0.0.1" in proc.stderr
        assert contacts(items_in(folder)) == contacts(cards)
        doc = gw.wait_done(nid)
        # the listener answered 200 OK: the SIP carrier reports delivery
        assert doc["state"] == "delivered", doc
        assert doc["route"] == uri and doc["origin"] == "http"
        assert doc["datastores"] == ["contacts"]
        device, state = gw.synced(DEVICE)
        assert device is not None and state is not None


def test_a_wrong_digest_is_ignored_and_the_next_good_one_syncs(tmp_path: Path):
    with gateway_and_listener(tmp_path, "udp") as pair:
        gw, proc, udp_port, folder = pair.gw, pair.proc, pair.listen_port, pair.folder
        cards = gw.add_contacts(3, seed=43)
        gw.admin("notify-setup", DEVICE, "--route", f"udp:127.0.0.1:{udp_port}",
                 "--server-password", SAN_PASSWORD + "-not", "--nonce", NONCE)
        bad = queued_id(gw.admin("notify", DEVICE))
        assert gw.wait_done(bad)["state"] == "sent"
        proc.wait_for("bad digest", timeout=30)
        assert re.search(r"ignored a notification from 127\.0\.0\.1:\d+: bad digest",
                         proc.stderr), proc.stderr
        # nothing synced: no items here, no session reached the gateway
        assert proc.proc.poll() is None, proc.stderr
        assert items_in(folder) == {}
        assert gw.synced(DEVICE) == (None, None)
        assert "syncing" not in proc.stderr

        gw.admin("notify-setup", DEVICE, "--server-password", SAN_PASSWORD)
        good = queued_id(gw.admin("notify", DEVICE))
        assert good != bad
        assert proc.finish(timeout=90) == 0, proc.stderr
        assert contacts(items_in(folder)) == contacts(cards)
        assert gw.wait_done(good)["state"] == "sent"
        device, state = gw.synced(DEVICE)
        assert device is not None and state is not None
        assert proc.stderr.count(": syncing") == 1, proc.stderr


def test_a_profile_nonce_that_is_not_base64_is_refused_at_start(tmp_path: Path):
    """The gateway's nonce is text, the profile's its base64: the gateway's text copied
    into the profile would make every digest fail, so the listener refuses to start."""
    profile = write_profile(tmp_path / "profiles.toml", url="http://127.0.0.1:9/sync",
                            store=tmp_path / "contacts", carrier="udp", nonce=NONCE)
    proc = ListenProc(tmp_path, "--config", str(profile), "--profile", "e2e")
    try:
        assert proc.finish(timeout=60) == 2, proc.stderr
    finally:
        proc.stop()
    assert "configuration: profile e2e: notify nonce 'e2e-nonce' is not base64" in proc.stderr
    assert "WDP/UDP on" not in proc.stderr
