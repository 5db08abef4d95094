"""The triggers: ``[notify]`` parsing, ``omads-admin device notify…`` and the HTTP admin
endpoint (in process, real sockets, a scripted carrier)."""

from __future__ import annotations

import io
import json

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.web.client import Agent, FileBodyProducer
from twisted.web.http_headers import Headers

from gateway.admin import cli
from gateway.config import ConfigError, parse_settings
from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.store.notifications import QUEUED, SENT
from gateway.transport.notify.carriers.base import read_body
from gateway.transport.notify.http import make_admin_site
from gateway.transport.notify.service import NotifyService
from tests.notify_service.helpers import (FakeCarrier, check_san, device, open_store, queue,
                                          settings, sync_run)


def test_notify_section_parses_every_key():
    doc = {"notify": {
        "enabled": True, "admin_listen": ["tcp:0:interface=127.0.0.1"], "admin_token": "t",
        "node_id": "n1", "poll_interval": 1, "lease": 60, "send_timeout": 20,
        "max_attempts": 4, "retry_delay": 5, "retry_max_delay": 50,
        "device_max_per_hour": 3, "daily_sms_budget": 9, "monitor_interval": 0,
        "monitor_datastores": ["contacts"], "ui_mode": "background",
        "modem": {"device": "/dev/ttyUSB0", "baudrate": 9600, "pin": "1234",
                  "sms_center": "+491710760000", "validity": -1, "command_timeout": 2,
                  "submit_timeout": 30},
        "kannel": {"url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "u",
                   "password": "p", "sender": "1234", "smsc": "FAKE"},
        "pap": {"url": "http://127.0.0.1:8080/wap-push.cgi", "username": "u", "password": "p",
                "ppg_host": "ppg.example"},
        "sip": {"transport": "tcp", "proxy": "127.0.0.1:5060", "from_uri": "sip:gw@x",
                "local_host": "127.0.0.1", "method": "NOTIFY", "event": "e",
                "username": "a", "password": "b"},
        "udp": {"bind": "127.0.0.1"},
        "device": [{"id": "IMEI:1", "routes": ["sip:+49@x", "udp:127.0.0.1:2948"],
                    "server_password": "pw", "nonce": "abc", "form": "1.1"}]}}
    ns = parse_settings(doc).notify
    assert ns.enabled and ns.max_attempts == 4 and ns.ui_mode == 1
    assert ns.modem.validity is None and ns.modem.baudrate == 9600
    assert ns.sip.method == "NOTIFY" and ns.sip.transport == "tcp"
    assert ns.kannel.smsc == "FAKE" and ns.pap.ppg_host == "ppg.example"
    [d] = ns.devices
    assert [str(r) for r in d.routes] == ["sip:+49@x", "udp:127.0.0.1:2948"]
    assert d.nonce == b"abc" and d.form == "1.1"


def test_notify_section_collects_problems():
    with pytest.raises(ConfigError) as e:
        parse_settings({"notify": {"enabled": True, "bogus": 1, "max_attempts": 0,
                                   "kannel": {"url": "ftp://x"},
                                   "device": [{"routes": ["fax:1"]}]}})
    text = str(e.value)
    for part in ("unknown key 'bogus'", "max_attempts", "[notify.kannel] username is required",
                 "must be an http", "fax:1", "id is required"):
        assert part in text
    with pytest.raises(ConfigError, match="at least one carrier"):
        parse_settings({"notify": {"enabled": True}})
    assert not parse_settings({}).notify.enabled


def test_admin_cli_setup_notify_status(tmp_path):
    db = str(tmp_path / "omads.sqlite")
    out = io.StringIO()
    assert cli.main(["--db", db, "user", "add", "u", "--password", "p"], out=out) == 0

    def admin(*argv):
        out, err = io.StringIO(), io.StringIO()
        rc = cli.main(["--db", db, "device", *argv], out=out, err=err)
        return rc, out.getvalue() + err.getvalue()
    rc, text = admin("notify-setup", "IMEI:1", "--route", "sip:+49@127.0.0.1",
                     "--route", "udp:127.0.0.1:2948", "--server-password", "pw", "--form", "1.2")
    assert rc == 0 and "sip:+49@127.0.0.1, udp:127.0.0.1:2948" in text and "with password" in text
    rc, text = admin("notify", "IMEI:1", "--datastore", "addressbook", "--via", "udp")
    assert rc == 0 and text.startswith("queued notification 1 for IMEI:1")
    rc, text = admin("notify", "IMEI:1", "-d", "calendar", "--via", "udp")
    assert rc == 0 and text.startswith("folded into notification 1")
    rc, text = admin("notify-status", "1")
    assert rc == 0 and text.split("\t")[:4] == ["1", "IMEI:1", "queued", "calendar,contacts"]
    rc, text = admin("notify", "IMEI:1", "--via", "fax:1")
    assert rc == 1 and "bad route" in text
    rc, text = admin("notify", "IMEI:1", "-d", "nope")
    assert rc == 1 and "unknown datastore" in text
    rc, text = admin("notify-status", "99")
    assert rc == 1 and "no notification 99" in text
    rc, text = admin("notify-setup", "IMEI:2", "--route", "modem:abc")
    assert rc == 1 and "MSISDN" in text


@inlineCallbacks
def _http(method, url, body=None, token=None):
    headers = Headers({b"Content-Type": [b"application/json"]})
    if token:
        headers.addRawHeader(b"Authorization", b"Bearer " + token.encode())
    producer = FileBodyProducer(io.BytesIO(json.dumps(body).encode())) if body is not None \
        else None
    response = yield Agent(reactor).request(method, url.encode(), headers, producer)
    data = yield read_body(response)
    return response.code, json.loads(data) if data else None


@pytest_twisted.inlineCallbacks
def test_http_admin_endpoint_queues_and_reports(tmp_path):
    store = open_store(tmp_path)
    udp = FakeCarrier("udp")
    svc = NotifyService(settings(poll_interval=0.05), server_id="omads-test",
                        datastores=DEFAULT_DATASTORES, reactor=reactor, store=store,
                        run=sync_run, carriers={"udp": udp})
    queue(store, lambda q: q.put_device(device("IMEI:1", "udp:127.0.0.1:2948")))
    port = reactor.listenTCP(0, make_admin_site(svc, datastores=DEFAULT_DATASTORES,
                                                token="tok"), interface="127.0.0.1")
    base = f"http://127.0.0.1:{port.getHost().port}/notify"
    svc.startService()
    try:
        code, doc = yield _http(b"POST", base, {"device": "IMEI:1"})
        assert code == 401
        code, doc = yield _http(b"POST", base, {"device": "IMEI:1", "datastores": ["card"]},
                                token="tok")
        assert code == 202 and doc["state"] == QUEUED and doc["folded"] is False
        nid = doc["id"]
        for _ in range(100):
            code, doc = yield _http(b"GET", f"{base}/{nid}", token="tok")
            if doc["state"] != QUEUED:
                break
            yield __import__("twisted.internet.task", fromlist=["x"]).deferLater(
                reactor, 0.05, lambda: None)
        assert code == 200 and doc["state"] == SENT and doc["route"] == "udp:127.0.0.1:2948"
        assert doc["datastores"] == ["contacts"] and doc["origin"] == "http"
        check_san(udp.sent[0][1].san, datastores=("contacts",))
        code, doc = yield _http(b"GET", f"{base}/999", token="tok")
        assert code == 404
        for bad in ({"device": 5}, {"device": "x", "datastores": ["nope"]},
                    {"device": "x", "via": "fax:1"}, ["not", "an", "object"]):
            code, doc = yield _http(b"POST", base, bad, token="tok")
            assert code == 400 and doc["error"]
    finally:
        yield port.stopListening()
        yield svc.stopService()
        store.close()
