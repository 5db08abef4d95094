"""The SyncML 1.1 SAN end to end on the gateway side: its codec and Cred, the choice of
form per device (configured, or from the stored DevInf), and the media type every
carrier labels it with (WSP push for SMS/UDP/Kannel, PAP content entity, SIP)."""

from __future__ import annotations

import base64
import random
import urllib.parse

import pytest
from twisted.internet.defer import Deferred, succeed
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import Clock

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import pap, san as sanlib, san_legacy, sip, sip_client, sms, wsp
from gateway.notify.errors import SANDecodeError
from gateway.notify.udh import Reassembler
from gateway.store.base import Device
from gateway.store.notifications import Notification, NotifyDevice
from gateway.syncml import codec
from gateway.syncml.devinf import DevInf
from gateway.syncml.items import Cred
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Alert, Item, Location, Message, Put, SyncBody, SyncHdr
from gateway.transport.notify.carriers.kannel import sendsms_url
from gateway.transport.notify.carriers.modem import ModemCarrier
from gateway.transport.notify.carriers.pap import PAPCarrier
from gateway.notifier.payload import (
    LEGACY_CONTENT_TYPE, build_payload, device_san, encode_form, san_form)
from gateway.config.notify import (
    KannelSettings, ModemSettings, PAPSettings, SIPSettings, UDPSettings)
from gateway.transport.notify.carriers.sip import SIPCarrier
from gateway.transport.notify.carriers.udp import UDPCarrier
from tests.notify.fake_net import UdpNet, settle
from tests.notify.modem_sim import ModemSim

SERVER_ID = "omads-test"
PASSWORD = "s3cret"
NONCE = b"n0nce"
SAN_TYPE = wsp.SAN_CONTENT_TYPE


def devinf(ver: str) -> bytes:
    return codec.encode_devinf(DevInf(ver_dtd=ver, dev_id="IMEI:1", dev_typ="phone"),
                               codec.XML)


def nd(form: str = "auto", password: str | None = PASSWORD) -> NotifyDevice:
    return NotifyDevice(device_id="IMEI:1", server_password=password, nonce=NONCE, form=form)


def payload(form: str = "1.1", password: str | None = PASSWORD, nid: int = 5,
            device: Device | None = None):
    return build_payload(Notification(id=nid, device_id="IMEI:1",
                                      datastores=("contacts", "calendar")),
                         server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=device,
                         nd=nd(form, password))


def the_san(**kw) -> sanlib.SAN:
    return sanlib.SAN(server_id=SERVER_ID, session_id=kw.pop("session_id", 77), syncs=(
        sanlib.SANSync(sync_type=206, content_type=0x07, server_uri="contacts"),
        sanlib.SANSync(sync_type=210, content_type=0x06, server_uri="calendar"),
        sanlib.SANSync(sync_type=206, content_type=0, server_uri="notes")), **kw)


# -- the codec ---------------------------------------------------------------------------------


@pytest.mark.parametrize("media", [codec.WBXML, codec.XML])
@pytest.mark.parametrize("ver", ["1.0", "1.1"])
def test_legacy_round_trip(media, ver):
    cred = san_legacy.server_cred(SERVER_ID, PASSWORD, NONCE)
    data = codec.encode_message(sanlib.legacy_san_message(the_san(), ver_dtd=ver, cred=cred),
                                media)
    for given in (media, None):                      # by media type, or by sniffing
        got = san_legacy.decode_legacy_san(data, given)
        assert got.ver_dtd == ver and got.san.version == {"1.0": 10, "1.1": 11}[ver]
        assert got.san.server_id == SERVER_ID and got.san.session_id == 77
        assert [(s.sync_type, s.content_type, s.server_uri) for s in got.san.syncs] == [
            (206, 0x07, "contacts"), (206, 0, "notes"), (210, 0x06, "calendar")]
        assert got.cred is not None
        assert san_legacy.verify_cred(got.cred, server_id=SERVER_ID, password=PASSWORD,
                                      nonce=NONCE)
    assert san_legacy.looks_legacy(data)


def test_cred_md5_and_basic_checks():
    md5 = san_legacy.server_cred(SERVER_ID, PASSWORD, NONCE)
    assert md5.meta.type == "syncml:auth-md5" and md5.meta.format == "b64"
    inner = base64.b64encode(__import__("hashlib").md5(
        f"{SERVER_ID}:{PASSWORD}".encode()).digest())
    expected = base64.b64encode(__import__("hashlib").md5(inner + b":" + NONCE).digest())
    assert md5.data == expected.decode()                              # §3.5 formula
    ok = dict(server_id=SERVER_ID, password=PASSWORD, nonce=NONCE)
    assert san_legacy.verify_cred(md5, **ok)
    assert not san_legacy.verify_cred(md5, **{**ok, "password": "other"})
    assert not san_legacy.verify_cred(md5, **{**ok, "nonce": b"other"})
    assert not san_legacy.verify_cred(md5, **{**ok, "server_id": "someone"})
    raw = Cred(meta=md5.meta, data=base64.b64decode(md5.data))        # 16 raw bytes (WBXML)
    assert san_legacy.verify_cred(raw, **ok)
    basic = Cred(meta=Meta(type="syncml:auth-basic", format="b64"),
                 data=base64.b64encode(f"{SERVER_ID}:{PASSWORD}".encode()).decode())
    assert san_legacy.verify_cred(basic, **ok)
    assert san_legacy.verify_cred(Cred(data=basic.data), **ok)        # basic is the default
    assert not san_legacy.verify_cred(Cred(meta=basic.meta, data="not base64!"), **ok)
    assert not san_legacy.verify_cred(Cred(meta=Meta(type="syncml:auth-MAC"), data="x"), **ok)


def _message(*commands, ver="1.1", proto=None, source=SERVER_ID) -> bytes:
    hdr = SyncHdr(ver_dtd=ver, ver_proto=proto or f"SyncML/{ver}", session_id="3", msg_id="1",
                  target=Location(loc_uri="/"),
                  source=Location(loc_uri=source) if source is not None else None)
    return codec.encode_message(Message(header=hdr, body=SyncBody(commands=commands,
                                                                  final=True)), codec.WBXML)


def _alert(code=206, uri="contacts"):
    return Alert(cmd_id="1", data=code, items=(Item(source=Location(loc_uri=uri)),))


@pytest.mark.parametrize("data,reason", [
    (_message(_alert(), ver="1.2"), "VerDTD '1.2'"),
    (_message(_alert(), proto="SyncML/1.0"), "VerProto"),
    (_message(_alert(), source=None), "names no server"),
    (_message(_alert(code=200)), "not a server-alerted code"),
    (_message(_alert(uri="")), "has no LocURI"),
    (_message(Put(cmd_id="1")), "a Put command"),
    (_message(), "no Alert"),
    (b"\x02\x9f\x53\x6a\x00garbage", "not a SyncML message"),
    (b"<SyncML>" + b" " * 5000, "exceeds"),
])
def test_bad_legacy_notifications_are_refused(data, reason):
    with pytest.raises(SANDecodeError, match=reason):
        san_legacy.decode_legacy_san(data)


def test_no_datastores_means_all_in_both_directions():
    data = codec.encode_message(sanlib.legacy_san_message(sanlib.SAN(server_id=SERVER_ID)),
                                codec.WBXML)
    got = san_legacy.decode_legacy_san(data)
    assert got.san.syncs == () and got.san.server_id == SERVER_ID
    msg = codec.decode_message(data, codec.WBXML)
    assert [(c.data, c.items) for c in msg.body.commands] == [(206, ())]
    assert san_legacy.decode_legacy_san(_message(Alert(cmd_id="1", data=207))).san.syncs == ()


def test_the_binary_form_does_not_look_legacy():
    for password in (None, PASSWORD, "x"):
        binary = sanlib.encode_san(the_san(), password=password, nonce=NONCE)
        assert not san_legacy.looks_legacy(binary)
    assert san_legacy.is_legacy_type("application/vnd.syncml+WBXML; charset=x")
    assert not san_legacy.is_legacy_type(SAN_TYPE) and not san_legacy.is_legacy_type(None)


# -- which form for which device ----------------------------------------------------------------


@pytest.mark.parametrize("form,ver,expected", [
    ("auto", None, "1.2"),            # nothing known: DS 1.2
    ("auto", "1.2", "1.2"),
    ("auto", "1.1", "1.1"),
    ("auto", "1.0", "1.1"),
    ("1.1", "1.2", "1.1"),            # the configured form wins over the DevInf
    ("1.2", "1.1", "1.2"),
    ("1.1", None, "1.1"),
])
def test_form_selection_and_labelling(form, ver, expected):
    device = Device(device_id="IMEI:1", devinf=devinf(ver)) if ver else None
    assert san_form(device, nd(form)) == expected
    p = payload(form, device=device)
    assert p.form == expected
    push = wsp.decode_push(p.push)
    assert push.body == p.san and push.application_id == wsp.SYNCML_APP_ID
    if expected == "1.1":
        assert p.content_type == push.content_type == LEGACY_CONTENT_TYPE
        got = san_legacy.decode_legacy_san(p.san, p.content_type)
        assert [s.server_uri for s in got.san.syncs] == ["contacts", "calendar"]
        assert got.san.session_id == 5
        assert san_legacy.verify_cred(got.cred, server_id=SERVER_ID, password=PASSWORD,
                                      nonce=NONCE)
    else:
        assert p.content_type == push.content_type == SAN_TYPE
        assert sanlib.verify_san(p.san, password=PASSWORD, nonce=NONCE)


def test_legacy_without_a_password_has_no_cred():
    p = payload("1.1", password=None)
    assert san_legacy.decode_legacy_san(p.san, p.content_type).cred is None
    body, ctype = encode_form(the_san(), "1.1", password=None)
    assert ctype == LEGACY_CONTENT_TYPE and san_legacy.decode_legacy_san(body).cred is None


def test_device_san_for_a_dial_out():
    dev = Device(device_id="IMEI:1", devinf=devinf("1.1"))
    body, ctype = device_san(SERVER_ID, device=dev, nd=None, password=PASSWORD, session_id=9)
    assert ctype == LEGACY_CONTENT_TYPE
    got = san_legacy.decode_legacy_san(body, ctype)
    assert got.san.session_id == 9
    assert san_legacy.verify_cred(got.cred, server_id=SERVER_ID, password=PASSWORD)
    body, ctype = device_san(SERVER_ID, device=None, nd=None, password=PASSWORD, session_id=9)
    assert ctype == SAN_TYPE and sanlib.verify_san(body, password=PASSWORD)


# -- every carrier labels the SAN with the payload's media type ---------------------------------


@pytest.mark.parametrize("form,ctype", [("1.1", LEGACY_CONTENT_TYPE), ("1.2", SAN_TYPE)])
def test_pap_content_entity_is_labelled(form, ctype):
    p = payload(form)
    req = pap.build_push_request(san=p.san, push_id="1@x", number="+491", ppg_host="ppg",
                                 boundary="b0undary", content_type=p.content_type)
    head, _, rest = req.body.partition(b"--b0undary\r\nContent-Type: " + ctype.encode())
    assert rest.startswith(b"\r\nX-Wap-Application-Id: x-wap-application:push.syncml\r\n\r\n"
                           + p.san), req.body
    with pytest.raises(ValueError, match="bad content type"):
        pap.build_push_request(san=p.san, push_id="1@x", number="+491", ppg_host="ppg",
                               boundary="b0undary", content_type="x\r\nEvil: 1")


class _Agent:
    """Records one PAP POST; answers a PAP 1001 push-response."""

    def __init__(self):
        self.body = b""

    def request(self, method, url, headers, producer):
        self.body = producer._inputFile.read()
        return succeed(_Response())


class _Response:
    code = 202

    def deliverBody(self, proto):
        from twisted.web.client import ResponseDone
        from twisted.python.failure import Failure
        proto.dataReceived(b'<?xml version="1.0"?><pap><push-response push-id="p">'
                           b'<response-result code="1001" desc="Accepted"/>'
                           b'</push-response></pap>')
        proto.connectionLost(Failure(ResponseDone()))


def test_pap_carrier_sends_the_legacy_type():
    agent = _Agent()
    clock = Clock()
    carrier = PAPCarrier(PAPSettings(url="http://127.0.0.1:1/ppg"), reactor=clock,
                         agent=agent)
    sent = settle(clock, carrier.send("+4912345678", payload("1.1")))
    assert sent.detail.startswith("PAP 1001")
    assert b"\r\nContent-Type: application/vnd.syncml+wbxml\r\n" in agent.body
    assert SAN_TYPE.encode() not in agent.body


@pytest.mark.parametrize("form,ctype", [("1.1", LEGACY_CONTENT_TYPE), ("1.2", SAN_TYPE)])
def test_sip_request_content_type(form, ctype):
    p = payload(form)
    config = sip_client.SipConfig(target_uri="sip:phone@127.0.0.1", from_uri="sip:gw@x",
                                  via_host="127.0.0.1", content_type=p.content_type)
    sender = sip_client.SanSender(config, rng=random.Random(1))
    [datagram] = sender.send(sip_client.SendSan(body=p.san), 0.0)
    msg = sip.parse_message(datagram)
    assert msg.header("Content-Type") == ctype and msg.body == p.san


class _Catch(DatagramProtocol):
    def __init__(self):
        self.got: Deferred = Deferred()

    def datagramReceived(self, data, addr):
        if self.got.called:
            return
        self.got.callback(data)
        msg = sip.parse_message(data)
        if isinstance(msg, sip.SipRequest):                     # answer as a handset would
            keep = [(n, v) for n, v in msg.headers
                    if sip.canonical_name(n) in ("Via", "From", "To", "Call-ID", "CSeq")]
            self.transport.write(bytes(sip.SipResponse(
                status=200, reason="OK", headers=(*keep, ("Content-Length", "0")))), addr)


def test_sip_and_udp_carriers_label_the_legacy_form_on_the_wire():
    p = payload("1.1")
    net = UdpNet()
    catch_sip, catch_udp = _Catch(), _Catch()
    sip_port = net.listenUDP(0, catch_sip, interface="127.0.0.1")
    udp_port = net.listenUDP(0, catch_udp, interface="127.0.0.1")
    udp = UDPCarrier(UDPSettings(), reactor=net)
    try:
        sent = settle(net, SIPCarrier(SIPSettings(), reactor=net).send(
            f"sip:phone@127.0.0.1:{sip_port.getHost().port}", p))
        assert sent.delivered
        msg = sip.parse_message(settle(net, catch_sip.got))
        assert msg.header("Content-Type") == LEGACY_CONTENT_TYPE and msg.body == p.san
        settle(net, udp.send(f"127.0.0.1:{udp_port.getHost().port}", p))
        push = wsp.decode_push(settle(net, catch_udp.got))
        assert push.content_type == LEGACY_CONTENT_TYPE and push.body == p.san
    finally:
        sip_port.stopListening()
        udp_port.stopListening()
        udp.stop()


class _SimPort:
    """A serial port whose far end is the modem simulator (answers one clock turn later)."""

    def __init__(self, proto, sim: ModemSim, clock: Clock):
        self.proto, self.sim, self.clock = proto, sim, clock
        clock.callLater(0, proto.makeConnection, self)

    def write(self, data: bytes) -> None:
        out = self.sim.feed(data)
        if out:
            self.clock.callLater(0, self.proto.dataReceived, out)

    def loseConnection(self) -> None:
        pass


def test_kannel_sendsms_carries_the_legacy_push():
    p = payload("1.1")
    settings = KannelSettings(url="http://127.0.0.1:1/cgi-bin/sendsms", username="u",
                              password="p")
    query = urllib.parse.urlsplit(sendsms_url(settings, "+491", p.push)).query
    text = urllib.parse.unquote_to_bytes(query.split("&text=")[1])
    assert text == p.push
    assert wsp.decode_push(text).content_type == LEGACY_CONTENT_TYPE


def test_modem_carrier_sends_the_legacy_push():
    p = payload("1.1")
    sim = ModemSim()
    clock = Clock()
    carrier = ModemCarrier(ModemSettings(device="sim", command_timeout=2.0,
                                         submit_timeout=5.0), reactor=clock,
                           opener=lambda proto, *_: _SimPort(proto, sim, clock))
    try:
        sent = settle(clock, carrier.send("+4912345678", p), until=1.0)
    finally:
        carrier.stop()
    assert sim.submitted and sent.detail.startswith(f"{len(sim.submitted)} SMS via modem")
    joiner, whole = Reassembler(), None
    for pdu_hex, _ in sim.submitted:
        sub = sms.decode_submit(bytes.fromhex(pdu_hex))
        assert sub.destination == "+4912345678" and sub.udh.ports == (2948, 9200)
        whole = joiner.add(sender="x", udh=sub.udh, data=sub.user_data, now=0.0) or whole
    assert whole is not None and whole.data == p.push
    push = wsp.decode_push(whole.data)
    assert push.content_type == LEGACY_CONTENT_TYPE and push.body == p.san
