"""Real sockets: the WSP push over UDP to a test socket, and the SAN over SIP to Kamailio
(byte-exact body, UDP and TCP, direct and through a proxy) and to SIPp (digest
challenge, a refusal); no answer at all is tests/notify/test_sip_carrier.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import DatagramProtocol

from gateway.store.notifications import Notification, NotifyDevice
from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.transport.notify.carriers.base import CarrierError
from gateway.notifier.payload import build_payload
from gateway.config.notify import SIPSettings, UDPSettings
from gateway.transport.notify.carriers.sip import SIPCarrier
from gateway.transport.notify.carriers.udp import UDPCarrier
from tests.notify_service import peers
from tests.notify_service.helpers import (NONCE, PASSWORD, SERVER_ID, check_push, check_san,
                                          free_port, need)

pytestmark = pytest.mark.timeout(120)


def payload(nid: int = 7, datastores=("contacts", "calendar")):
    nd = NotifyDevice(device_id="IMEI:1", server_password=PASSWORD, nonce=NONCE)
    return build_payload(Notification(id=nid, device_id="IMEI:1", datastores=datastores),
                         server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=None, nd=nd)


class _Catch(DatagramProtocol):
    def __init__(self):
        self.got: Deferred = Deferred()

    def datagramReceived(self, data, addr):
        if not self.got.called:
            self.got.callback((data, addr))


@pytest_twisted.inlineCallbacks
def test_udp_push_reaches_a_socket():
    catch = _Catch()
    port = reactor.listenUDP(0, catch, interface="127.0.0.1")
    carrier = UDPCarrier(UDPSettings(), reactor=reactor)
    p = payload()
    try:
        sent = yield carrier.send(f"127.0.0.1:{port.getHost().port}", p)
        data, addr = yield catch.got.addTimeout(10, reactor)
    finally:
        yield port.stopListening()
        yield carrier.stop()
    assert data == p.push and addr[0] == "127.0.0.1"
    assert data[:6] == bytes((7, 0x06, 0x03, 0xCE, 0xAF, 0x85))     # TID 7, Push, CT 0x4E, app 0x05
    check_san(check_push(data), datastores=("contacts", "calendar"), session_id=7)
    assert "datagram" in sent.detail


KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
listen=tcp:127.0.0.1:{port}
tcp_accept_no_cl=yes
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
request_route {{
    if (is_method("MESSAGE|NOTIFY")) {{
        xlog("L_NOTICE", "SAN-SINK $rm ruri=$ru proto=$proto ct=[$cT] ac=[$hdr(Accept-Contact)] event=[$hdr(Event)] body_hex=[$(rb{{s.encode.hexa}})]\\n");
        if (!has_body("application/vnd.syncml.ds.notification")) {{
            sl_send_reply("415", "Unsupported Media Type");
            exit;
        }}
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("405", "Method Not Allowed");
}}
"""


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory):
    need("kamailio")
    work = tmp_path_factory.mktemp("kamailio")
    port = free_port()
    (work / "k.cfg").write_text(KAMAILIO_CFG.format(port=port))
    log = work / "kamailio.log"
    proc = peers.start(["kamailio", "-f", str(work / "k.cfg"), "-DD", "-E", "-n", "1",
                        "-Y", str(work), "-P", str(work / "k.pid"), "-m", "32", "-M", "8"],
                       work, log)
    try:
        peers.wait_for(lambda: peers.tcp_open(port), 20, "kamailio")
        yield port, log
    finally:
        peers.stop(proc)


def sink_lines(log: Path) -> list[dict]:
    out = []
    for line in log.read_text("latin-1").splitlines():
        m = re.search(r"SAN-SINK (\w+) ruri=(\S+) proto=(\w+) ct=\[(.*?)\] ac=\[(.*?)\] "
                      r"event=\[(.*?)\] body_hex=\[([0-9a-f]*)\]", line)
        if m:
            out.append(dict(method=m[1], ruri=m[2], proto=m[3], ct=m[4], ac=m[5], event=m[6],
                            body=bytes.fromhex(m[7])))
    return out


@pytest.mark.interop
@pytest.mark.parametrize("transport,method,via_proxy", [
    ("udp", "MESSAGE", False), ("tcp", "MESSAGE", False), ("udp", "NOTIFY", False),
    ("udp", "MESSAGE", True), ("tcp", "NOTIFY", True)])
@pytest_twisted.inlineCallbacks
def test_sip_to_kamailio_body_is_byte_exact(kamailio, transport, method, via_proxy):
    port, log = kamailio
    before = len(sink_lines(log))
    settings = SIPSettings(transport=transport, method=method,
                           proxy=f"127.0.0.1:{port}" if via_proxy else None)
    target = ("sip:+4912345678@ims.invalid" if via_proxy
              else f"sip:+4912345678@127.0.0.1:{port}")
    p = payload(nid=300 + before)
    sent = yield SIPCarrier(settings, reactor=reactor).send(target, p)
    assert sent.delivered and sent.detail == "SIP 200 OK"
    peers.wait_for(lambda: len(sink_lines(log)) > before, 10, "kamailio's log line")
    got = sink_lines(log)[before]
    assert got["body"] == p.san
    check_san(got["body"], datastores=("contacts", "calendar"), session_id=300 + before)
    assert (got["method"], got["proto"], got["ruri"]) == (method, transport, target)
    assert got["ct"] == "application/vnd.syncml.ds.notification"
    assert got["ac"] == '*;+g.oma.pusheventapp="push.syncml";require;explicit'
    assert got["event"] == ("syncml-notification" if method == "NOTIFY" else "<null>")


SIPP_AUTH = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="SAN UAS with digest challenge">
  <recv request="MESSAGE" />
  <send><![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="sipp.test", nonce="5b0c1f2e", algorithm=MD5, qop="auth"
Content-Length: 0

]]></send>
  <recv request="MESSAGE">
    <action>
      <ereg regexp="application/vnd.syncml.ds.notification" search_in="hdr"
            header="Content-Type:" check_it="true" assign_to="ct" />
      <verifyauth assign_to="authvalid" username="alice" password="{password}" />
      <log message="content-type [$ct]" />
    </action>
  </recv>
  <nop hide="true" test="authvalid" next="good" />
  <send next="end"><![CDATA[
SIP/2.0 403 Forbidden
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="good" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="end" />
</scenario>
"""

SIPP_REFUSE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="SAN UAS busy">
  <recv request="MESSAGE" />
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


def sipp(work: Path, scenario: str, port: int, transport: str = "u1") -> subprocess.Popen:
    need("sipp")
    (work / "s.xml").write_text(scenario)
    return peers.start(["sipp", "-sf", str(work / "s.xml"), "-t", transport, "-i", "127.0.0.1",
                        "-p", str(port), "-m", "1", "-nostdin", "-timeout", "30s",
                        "-timeout_error", "-trace_err", "-error_file", str(work / "err.log"),
                        "-trace_logs", "-log_file", str(work / "logs.log")],
                       work, work / "sipp.log")


def wait_exit(proc: subprocess.Popen, timeout: float = 15) -> int:
    peers.wait_for(lambda: proc.poll() is not None, timeout, "sipp to exit")
    return proc.returncode


@pytest.mark.interop
@pytest.mark.parametrize("password,ok", [("pw-alice", True), ("wrong", False)])
@pytest_twisted.inlineCallbacks
def test_sip_digest_challenge_answered_for_sipp(tmp_path, password, ok):
    port = free_port(__import__("socket").SOCK_DGRAM)
    proc = sipp(tmp_path, SIPP_AUTH.format(password="pw-alice"), port)
    try:
        peers.wait_for(lambda: (tmp_path / "sipp.log").exists(), 5, "sipp")
        yield _sleep(0.5)
        carrier = SIPCarrier(SIPSettings(username="alice", password=password), reactor=reactor)
        d = carrier.send(f"sip:+4912345678@127.0.0.1:{port}", payload())
        if ok:
            sent = yield d
            assert sent.delivered
        else:
            with pytest.raises(CarrierError, match="SIP 403"):
                yield d
        rc = yield _in_thread(wait_exit, proc)
        assert rc == 0, (tmp_path / "sipp.log").read_text("latin-1")[-2000:]
    finally:
        peers.stop(proc)


@pytest.mark.interop
@pytest_twisted.inlineCallbacks
def test_sip_refusal_is_a_failure(tmp_path):
    """SIPp answers 486. (Silence, timer F, is tests/notify/test_sip_carrier.py, on a
    clock: it takes 64*T1 = 32 s of timers.)"""
    port = free_port(__import__("socket").SOCK_DGRAM)
    proc = sipp(tmp_path, SIPP_REFUSE, port)
    try:
        yield _sleep(0.5)
        carrier = SIPCarrier(SIPSettings(), reactor=reactor)
        with pytest.raises(CarrierError, match="SIP 486: Busy Here"):
            yield carrier.send(f"sip:+4912345678@127.0.0.1:{port}", payload())
    finally:
        peers.stop(proc)


def _sleep(seconds: float) -> Deferred:
    from twisted.internet.task import deferLater
    return deferLater(reactor, seconds, lambda: None)


def _in_thread(f, *args):
    from twisted.internet.threads import deferToThread
    return deferToThread(f, *args)
