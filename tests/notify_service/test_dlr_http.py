"""Delivery reports at the edges: the ``[notify]`` keys, the sendsms request with
``dlr-mask``/``dlr-url`` (one per part), the ``/notify/dlr`` callback on the admin
listener (real sockets: 400/403/404/200, no bearer token needed) and what GET /notify/ID
and ``omads-admin device notify-status`` show."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from gateway.admin import cli
from gateway.config import ConfigError, parse_settings
from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import san as sanlib
from gateway.notify import wsp
from gateway.notify.dlr import make_target, report_token
from gateway.notify.udh import Reassembler, decode_udh
from gateway.store.notifications import DELIVERED, SENT
from gateway.transport.notify.carriers.base import Sent, read_body, sms_parts_for
from gateway.transport.notify.http import make_admin_site
from gateway.transport.notify.carriers.kannel import PORT_UDH, report_parts, sendsms_url
from gateway.notifier.payload import Payload
from gateway.transport.notify.service import NotifyService
from gateway.config.notify import KannelSettings, admin_url
from tests.notify_service.helpers import (FakeCarrier, device, free_port, open_store, queue,
                                          settings, sync_run)

KANNEL = {"url": "http://127.0.0.1:13013/cgi-bin/sendsms", "username": "u", "password": "p"}


def notify_doc(**kw):
    doc = {"enabled": True, "kannel": dict(KANNEL, dlr=True)}
    doc.update(kw)
    return {"notify": doc}


def test_report_keys_parse_and_the_base_comes_from_admin_listen():
    ns = parse_settings(notify_doc(admin_listen=["tcp:8181:interface=127.0.0.1"])
                        ).notify
    assert ns.kannel.dlr and ns.kannel.dlr_mask == 31 and ns.dlr_url_base == "http://127.0.0.1:8181"
    ns = parse_settings(notify_doc(admin_listen=["tcp:8181:interface=127.0.0.1"], dlr_url_base="http://gw.lan:80/x/",
                                   pap={"url": "http://h:1/p", "dlr": True, "dlr_mask": 3})
                        ).notify
    assert ns.dlr_url_base == "http://gw.lan:80/x" and ns.pap.dlr and ns.pap.dlr_mask == 3
    ns = parse_settings({"notify": {"enabled": True, "kannel": KANNEL}}).notify
    assert not ns.kannel.dlr and ns.dlr_url_base is None


@pytest.mark.parametrize("doc, message", [
    (notify_doc(), "need admin_listen"),
    (notify_doc(admin_listen=["unix:/tmp/x.sock"]), "dlr_url_base is needed"),
    (notify_doc(admin_listen=["tcp:1"], dlr_url_base="ftp://x"), "dlr_url_base must be an http"),
    (notify_doc(admin_listen=["tcp:1"], kannel=dict(KANNEL, dlr="yes")), "dlr must be true"),
    (notify_doc(admin_listen=["tcp:1"], kannel=dict(KANNEL, dlr=True, dlr_mask=8)),
     "dlr_mask must be a sum"),
    (notify_doc(admin_listen=["tcp:1"], kannel=dict(KANNEL, dlr=True, dlr_mask=35)),
     "dlr_mask must be a sum"),
    (notify_doc(admin_listen=["tcp:1"], pap={"url": "http://h/p", "dlr_mask": True}),
     "dlr_mask must be a sum"),
])
def test_report_keys_are_checked(doc, message):
    with pytest.raises(ConfigError, match=message):
        parse_settings(doc)


def test_admin_url_of_listeners():
    assert admin_url("tcp:8081:interface=127.0.0.1") == "http://127.0.0.1:8081"
    assert admin_url("tcp:port=8081:interface=0.0.0.0") == "http://127.0.0.1:8081"
    assert admin_url("ssl:8443:privateKey=k.pem") == "https://127.0.0.1:8443"
    assert admin_url("tcp:0") is None and admin_url("unix:/x") is None
    assert admin_url("tcp6:8081:interface=\\:\\:1") is None


def long_payload(nid):
    san = sanlib.encode_san(sanlib.SAN(server_id="s" * 200, session_id=nid, syncs=(
        sanlib.SANSync(sync_type=206, content_type=7, server_uri="contacts"),)),
        password="pw", nonce=b"n")
    target = make_target(base="http://gw:1", secret=b"s" * 32, notification_id=nid, attempt=1)
    return Payload(san=san, content_type=wsp.SAN_CONTENT_TYPE, push=wsp.san_push(san, tid=1),
                   form="1.2", reports=target)


def test_sendsms_request_asks_for_reports_per_part():
    p = long_payload(0x1234)
    parts = report_parts(p)
    assert len(parts) == sms_parts_for(p.push) == 2
    joiner, whole = Reassembler(), None
    for n, (udh, data) in enumerate(parts, start=1):
        header, _ = decode_udh(udh)
        assert header.ports == (2948, 9200) and header.concat.ref == 0x34
        assert (header.concat.total, header.concat.seq) == (2, n) and len(udh) + len(data) <= 140
        whole = joiner.add(sender="k", udh=header, data=data, now=0.0) or whole
    assert whole.data == p.push
    settings = KannelSettings(**KANNEL, dlr=True, dlr_mask=19)
    udh, data = parts[1]
    url = sendsms_url(settings, "+4912345", data, udh=udh, dlr_url=p.reports.url(2))
    q = parse_qs(urlsplit(url).query)
    assert q["dlr-mask"] == ["19"] and q["dlr-url"] == [p.reports.url(2)]
    assert "%d" in q["dlr-url"][0] and "part=2" in q["dlr-url"][0]
    plain = parse_qs(urlsplit(sendsms_url(settings, "+4912345", b"\x01")).query,
                     encoding="latin-1")
    assert "dlr-url" not in plain and "dlr-mask" not in plain
    assert plain["udh"] == [PORT_UDH.decode("latin-1")]


@inlineCallbacks
def _get(url, token=None):
    headers = Headers({})
    if token:
        headers.addRawHeader(b"Authorization", b"Bearer " + token.encode())
    response = yield Agent(reactor).request(b"GET", url.encode(), headers)
    data = yield read_body(response)
    return response.code, json.loads(data)


@pytest_twisted.inlineCallbacks
def test_callback_endpoint_refuses_bad_calls_and_settles(tmp_path):
    store = open_store(tmp_path)
    carrier = FakeCarrier("kannel", [Sent(detail="ok", report_parts=2)], parts=2)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    svc = NotifyService(settings(poll_interval=0.05, dlr_url_base=base,
                                 kannel=KannelSettings(**KANNEL, dlr=True)),
                        server_id="omads-test", datastores=DEFAULT_DATASTORES, reactor=reactor,
                        store=store, run=sync_run, carriers={"kannel": carrier})
    site_port = reactor.listenTCP(port, make_admin_site(svc, datastores=DEFAULT_DATASTORES,
                                                        token="tok"), interface="127.0.0.1")
    queue(store, lambda q: q.put_device(device("IMEI:1", "kannel:+4912345")))
    svc.startService()
    try:
        nid = queue(store, lambda q: q.enqueue(device_id="IMEI:1", datastores=(), via=None,
                                               now=reactor.seconds()))[0].id
        for _ in range(200):
            if carrier.sent and queue(store, lambda q: q.get(nid)).state == SENT:
                break
            yield deferLater(reactor, 0.02, lambda: None)
        target = carrier.sent[0][1].reports
        before = queue(store, lambda q: q.get(nid))
        assert before.state == SENT and target.base == base

        def kannel_url(part, status, token=None, nid=nid, answer="ACK%2F"):
            url = target.url(part).replace("%d", status).replace("%A", answer) \
                .replace("%T", "1795829349")
            if token is not None:
                url = url.replace(target.token, token)
            return url.replace(f"id={target.notification_id}&", f"id={nid}&")

        for url in (kannel_url(1, "x"), kannel_url(1, "%d"),
                    kannel_url(1, "1").replace("part=1", "part=0"),
                    kannel_url(1, "1", token="zz"), base + "/notify/dlr",
                    kannel_url(1, "1").replace("id=", "id=%FF")):
            code, doc = yield _get(url)
            assert code == 400 and doc["error"], url
        code, doc = yield _get(kannel_url(1, "1", token="f" * 32))
        assert code == 403 and doc == {"error": "forbidden"}
        secret = queue(store, lambda q: q.report_secret())
        code, doc = yield _get(kannel_url(1, "1", nid=nid + 7,
                                          token=report_token(secret, nid + 7, 1)))
        assert code == 404
        assert queue(store, lambda q: q.get(nid)) == before
        assert queue(store, lambda q: q._db.execute(
            "SELECT COUNT(*) FROM notify_reports").fetchone()[0]) == 0
        code, doc = yield _get(kannel_url(1, "8"))            # no bearer token needed
        assert code == 200 and doc == {"id": nid, "state": SENT, "report": "recorded"}
        code, doc = yield _get(kannel_url(1, "1", answer="%FF%FE"))     # not UTF-8: kept
        assert code == 200 and queue(store, lambda q: q.get(nid)).report.startswith(
            "part 1/2: delivered to the phone (\ufffd\ufffd)")
        code, doc = yield _get(kannel_url(2, "1", answer=""))
        assert code == 200 and doc["state"] == DELIVERED
        code, doc = yield _get(f"{base}/notify/{nid}")
        assert code == 401                                     # the rest still needs it
        code, doc = yield _get(f"{base}/notify/{nid}", token="tok")
        assert doc["state"] == DELIVERED and doc["report_parts"] == 2
        assert doc["report"] == ("part 1/2: delivered to the phone (\ufffd\ufffd); "
                                 "part 2/2: delivered to the phone")
        assert doc["report_time"] == 1795829349.0
        out, err = io.StringIO(), io.StringIO()
        rc = cli.main(["--db", str(tmp_path / "omads.sqlite"), "device", "notify-status",
                       str(nid)], out=out, err=err)
        fields = out.getvalue().rstrip("\n").split("\t")
        assert rc == 0 and fields[2] == DELIVERED, err.getvalue()
        assert fields[6] == ("report=2026-11-28T01:29:09Z part 1/2: delivered to the phone "
                             "(\ufffd\ufffd); part 2/2: delivered to the phone")
    finally:
        yield site_port.stopListening()
        yield svc.stopService()
        store.close()
