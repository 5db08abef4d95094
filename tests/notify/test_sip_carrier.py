"""The SIP carrier: ``SanSender`` in the datagram form of the core host, over a loopback
UDP network on a clock (tests/notify/fake_net.py): timer E retransmissions and timer F
at their RFC 3261 times, an answer from the handset, a message we cannot use."""

from __future__ import annotations

import pytest
from twisted.internet.protocol import DatagramProtocol

from gateway.config.notify import SIPSettings
from gateway.notify import sip
from gateway.transport.notify.carriers.base import CarrierError
from gateway.transport.notify.carriers.sip import SIPCarrier
from tests.notify.fake_net import UdpNet, settle
from tests.notify.test_legacy_san_select import payload


class Handset(DatagramProtocol):
    """Records every datagram with the clock time; answers the ``answer``-th one (if any)."""

    def __init__(self, net: UdpNet, answer: int | None = None, status: int = 200,
                 junk_first: bool = False):
        self.net, self.answer, self.status, self.junk_first = net, answer, status, junk_first
        self.got: list[tuple[float, bytes]] = []

    def datagramReceived(self, data, addr):
        self.got.append((self.net.seconds(), data))
        if len(self.got) != self.answer:
            return
        msg = sip.parse_message(data)
        keep = [(n, v) for n, v in msg.headers
                if sip.canonical_name(n) in ("Via", "From", "To", "Call-ID", "CSeq")]
        if self.junk_first:
            self.transport.write(b"not SIP at all", addr)
        self.transport.write(bytes(sip.SipResponse(
            status=self.status, reason="OK" if self.status == 200 else "Busy Here", headers=(*keep, ("Content-Length", "0")))), addr)


def test_silence_is_a_failure_after_timer_f():
    """Nobody answers: the request goes out at 0 and again at timer E (T1 = 0.5 s,
    doubling to T2 = 4 s), and timer F ends the send at 64*T1 = 32 s."""
    net = UdpNet()
    handset = Handset(net)
    port = net.listenUDP(5060, handset, interface="127.0.0.1")
    d = SIPCarrier(SIPSettings(), reactor=net).send("sip:+4912345678@127.0.0.1:5060",
                                                    payload("1.2"))
    with pytest.raises(CarrierError, match="no final response"):
        settle(net, d)
    assert net.seconds() == 32.0
    assert [t for t, _ in handset.got] == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5,
                                          27.5, 31.5]
    assert len({data for _, data in handset.got}) == 1        # the same request each time
    assert net.getDelayedCalls() == [] and list(net.ports) == [port.address]


def test_an_answer_after_a_retransmission_settles_it_and_junk_is_dropped():
    net = UdpNet()
    handset = Handset(net, answer=2, junk_first=True)
    net.listenUDP(5060, handset, interface="127.0.0.1")
    sent = settle(net, SIPCarrier(SIPSettings(), reactor=net).send(
        "sip:+4912345678@127.0.0.1:5060", payload("1.2")))
    assert sent.delivered and sent.detail == "SIP 200 OK"
    assert [t for t, _ in handset.got] == [0.0, 0.5]
    assert net.errors == []                      # the junk datagram was logged and dropped
    assert net.getDelayedCalls() == []           # the host's timer went with the send
    assert len(net.ports) == 1                   # the carrier's socket is closed


def test_a_refusal_is_a_carrier_error():
    net = UdpNet()
    net.listenUDP(5060, Handset(net, answer=1, status=486), interface="127.0.0.1")
    with pytest.raises(CarrierError, match="SIP 486: Busy Here"):
        settle(net, SIPCarrier(SIPSettings(), reactor=net).send(
            "sip:+4912345678@127.0.0.1:5060", payload("1.2")))
