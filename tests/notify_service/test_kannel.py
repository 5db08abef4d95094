"""Kannel 1.4 as the SMS path: smsbox ``sendsms`` and wapbox's PPG (PAP), both ending at
bearerbox's fake SMSC, read by Kannel's own ``fakesmsc``. Each SMS is decoded: UDH, WSP
push headers and the SAN byte for byte."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest
import pytest_twisted
from twisted.internet import reactor

from gateway.notify import san as sanlib
from gateway.notify import wsp
from gateway.notify.udh import Reassembler, decode_udh
from gateway.transport.notify.carriers.base import CarrierError, sms_parts_for
from gateway.transport.notify.carriers.kannel import KannelCarrier
from gateway.transport.notify.carriers.pap import PAPCarrier
from gateway.notifier.payload import Payload
from gateway.config.notify import KannelSettings, PAPSettings
from tests.notify_service import peers
from tests.notify_service.helpers import check_push, check_san, free_port, need
from tests.notify_service.test_udp_sip import payload

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"

CONF = """\
group = core
admin-port = {admin}
admin-password = bar
admin-interface = 127.0.0.1
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
wapbox-port = {wapbox}
wdp-interface-name = "127.0.0.1"
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "bearerbox.log"
log-level = 1

group = smsc
smsc = fake
smsc-id = FAKE
port = {fake}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "smsbox.log"
log-level = 1

group = sendsms-user
username = tester
password = foobar
max-messages = 10
concatenation = true

group = sms-service
keyword = default
text = "No service specified"

group = wapbox
bearerbox-host = 127.0.0.1
log-file = "wapbox.log"
log-level = 1
syslog-level = none

group = ppg
ppg-url = /cgi-bin/wap-push.cgi
ppg-port = {ppg}
concurrent-pushes = 10
trusted-pi = false
users = 16
ppg-allow-ip = "127.0.0.1"
default-smsc = FAKE
global-sender = 5555

group = wap-push-user
wap-push-user = omads
ppg-username = foo
ppg-password = bar
allow-ip = 127.0.0.1
"""


class Kannel:
    def __init__(self, work):
        self.work = work
        self.ports = {k: free_port() for k in ("admin", "smsbox", "wapbox", "fake", "sendsms",
                                               "ppg")}
        (work / "k.conf").write_text(CONF.format(**self.ports))
        self.procs = []

    def run(self, *argv, log):
        self.procs.append(peers.start(list(argv), self.work, self.work / log))

    def start(self):
        p = self.ports
        self.run("/usr/sbin/bearerbox", "-v", "1", "k.conf", log="bearerbox.out")
        for key in ("fake", "smsbox", "wapbox"):
            peers.wait_for(lambda k=key: peers.tcp_open(p[k]), 20, f"bearerbox {key} port")
        self.run(FAKESMSC, "-H", "127.0.0.1", "-r", str(p["fake"]), "-m", "0", "1 2 text x",
                 log="fakesmsc.out")
        self.run("/usr/sbin/smsbox", "-v", "1", "k.conf", log="smsbox.out")
        self.run("/usr/sbin/wapbox", "-v", "1", "k.conf", log="wapbox.out")
        peers.wait_for(lambda: peers.tcp_open(p["sendsms"]) and peers.tcp_open(p["ppg"]), 20,
                       "smsbox and wapbox")
        peers.wait_for(self._boxes_online, 20, "the SMSC link and both boxes")

    def _boxes_online(self) -> bool:
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password=bar"
        try:
            status = urllib.request.urlopen(url, timeout=2).read().decode("latin-1")
        except OSError:
            return False
        return ("online" in status and "wapbox" in status and "smsbox" in status
                and status.count("FAKE") >= 1)

    def stop(self):
        for proc in reversed(self.procs):
            peers.stop(proc)

    def messages(self) -> list[tuple[str, str, bytes, bytes]]:
        """fakesmsc's "Got message N: <from to udh U data D>" lines, decoded."""
        out = []
        text = (self.work / "fakesmsc.out").read_text("latin-1")
        for m in re.finditer(r"Got message \d+: <(.*)>", text):
            f = m.group(1).split(" ")
            unq = lambda s: urllib.parse.unquote_to_bytes(s.replace("+", " "))  # noqa: E731
            if f[2] == "udh":
                out.append((f[0], f[1], unq(f[3]), unq(f[5])))
            else:
                out.append((f[0], f[1], b"", unq(f[3])))
        return out

    def wait_messages(self, count: int) -> list:
        peers.wait_for(lambda: len(self.messages()) >= count, 20, f"{count} SMS at fakesmsc")
        return self.messages()


@pytest.fixture(scope="module")
def kannel(tmp_path_factory):
    need("/usr/sbin/bearerbox", "/usr/sbin/smsbox", "/usr/sbin/wapbox", FAKESMSC)
    k = Kannel(tmp_path_factory.mktemp("kannel"))
    try:
        k.start()
        yield k
    finally:
        k.stop()


def kannel_settings(k, **kw):
    return KannelSettings(url=f"http://127.0.0.1:{k.ports['sendsms']}/cgi-bin/sendsms",
                          username="tester", password="foobar", **kw)


@pytest_twisted.inlineCallbacks
def test_sendsms_carries_udh_push_and_san_exactly(kannel):
    before = len(kannel.messages())
    p = payload(nid=41)
    sent = yield KannelCarrier(kannel_settings(kannel, sender="4321"),
                               reactor=reactor).send("+4912345678", p)
    assert "Accepted" in sent.detail or "Queued" in sent.detail
    sender, receiver, udh, data = kannel.wait_messages(before + 1)[before]
    assert (sender, receiver) == ("4321", "+4912345678")
    assert udh == bytes.fromhex("0605040B8423F0")
    assert data == p.push
    check_san(check_push(data), datastores=("contacts", "calendar"), session_id=41)


@pytest_twisted.inlineCallbacks
def test_sendsms_long_push_is_concatenated_by_kannel(kannel):
    before = len(kannel.messages())
    san = sanlib.encode_san(sanlib.SAN(server_id="x" * 200, session_id=5, syncs=(
        sanlib.SANSync(sync_type=206, content_type=7, server_uri="contacts"),)),
        password="pw", nonce=b"n")
    p = Payload(san=san, content_type=wsp.SAN_CONTENT_TYPE, push=wsp.san_push(san, tid=9),
                form="1.2")
    assert sms_parts_for(p.push) == 2
    yield KannelCarrier(kannel_settings(kannel, sender="4321"),
                        reactor=reactor).send("+4912345678", p)
    parts = kannel.wait_messages(before + 2)[before:before + 2]
    joiner = Reassembler()
    whole = None
    for _, _, udh, data in parts:
        header, size = decode_udh(udh)
        assert size == len(udh) and udh[:7] == bytes.fromhex("0B05040B8423F0")
        assert header.ports == (2948, 9200) and header.concat.total == 2
        whole = joiner.add(sender="k", udh=header, data=data, now=0.0) or whole
    assert whole is not None and whole.data == p.push
    assert sanlib.verify_san(check_push(whole.data), password="pw", nonce=b"n")


@pytest_twisted.inlineCallbacks
def test_pap_push_through_wapbox_ppg(kannel):
    before = len(kannel.messages())
    p = payload(nid=42)
    settings = PAPSettings(url=f"http://127.0.0.1:{kannel.ports['ppg']}/cgi-bin/wap-push.cgi",
                           username="foo", password="bar", ppg_host="ppg.example")
    sent = yield PAPCarrier(settings, reactor=reactor).send("+4912345678", p)
    assert sent.detail.startswith("PAP 1001")
    sender, receiver, udh, data = kannel.wait_messages(before + 1)[before]
    assert (sender, receiver) == ("5555", "+4912345678")
    assert udh == bytes.fromhex("0605040B8423F0")
    push = wsp.decode_push(data)
    assert push.content_type == wsp.SAN_CONTENT_TYPE       # sent by Kannel as text
    assert push.application_id == wsp.SYNCML_APP_ID        # 0x85
    names = [h.name.lower() for h in push.headers]
    assert "user-agent" not in names and "accept" not in names
    assert set(names) <= {"x-wap-application-id", "content-length", "encoding-version"}
    assert push.body == p.san
    check_san(push.body, datastores=("contacts", "calendar"), session_id=42)


@pytest_twisted.inlineCallbacks
def test_ppg_refuses_bad_credentials_and_sendsms_bad_user(kannel):
    settings = PAPSettings(url=f"http://127.0.0.1:{kannel.ports['ppg']}/cgi-bin/wap-push.cgi",
                           username="foo", password="wrong")
    with pytest.raises(CarrierError, match="credentials"):
        yield PAPCarrier(settings, reactor=reactor).send("+4912345678", payload())
    bad = KannelSettings(url=f"http://127.0.0.1:{kannel.ports['sendsms']}/cgi-bin/sendsms",
                         username="tester", password="nope")
    with pytest.raises(CarrierError, match="Kannel answered 403"):
        yield KannelCarrier(bad, reactor=reactor).send("+4912345678", payload())
