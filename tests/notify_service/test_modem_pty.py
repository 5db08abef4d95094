"""The GSM modem carrier on a real serial pty pair (socat), with the modem simulator of
tests/notify/modem_sim.py on the other end: PDUs are decoded and checked; modem errors
and timeouts end in retries and a recorded failure, and the queue keeps moving."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.protocol import Protocol
from twisted.internet.serialport import SerialPort
from twisted.internet.task import deferLater

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import san as sanlib
from gateway.notify import wsp
from gateway.notify.sms import decode_submit
from gateway.notify.udh import Reassembler
from gateway.store.notifications import FAILED, QUEUED, SENT
from gateway.transport.notify.carriers.base import CarrierError
from gateway.transport.notify.carriers.modem import ModemCarrier
from gateway.notifier.payload import Payload
from gateway.transport.notify.service import NotifyService
from gateway.config.notify import ModemSettings
from tests.notify.modem_sim import ModemSim
from tests.notify_service import peers
from tests.notify_service.helpers import (check_push, check_san, device, need, open_store,
                                          queue, settings, sync_run)
from tests.notify_service.test_udp_sip import payload

pytestmark = pytest.mark.timeout(120)


class SimSide(Protocol):
    """The DCE end: bytes in, the simulator's answer out."""

    def __init__(self, sim: ModemSim):
        self.sim = sim

    def dataReceived(self, data: bytes) -> None:
        out = self.sim.feed(data)
        if out:
            self.transport.write(out)


@pytest.fixture
def pty_pair(tmp_path):
    need("socat")
    dte, dce = tmp_path / "dte", tmp_path / "dce"
    proc = peers.start(["socat", "-d", "-d", f"pty,raw,echo=0,link={dte}",
                        f"pty,raw,echo=0,link={dce}"], tmp_path, tmp_path / "socat.log")
    try:
        peers.wait_for(lambda: dte.exists() and dce.exists(), 10, "socat's ptys")
        yield str(dte), str(dce)
    finally:
        peers.stop(proc)


@pytest.fixture
def sim_on(pty_pair):
    ports = []

    def attach(sim: ModemSim):
        ports.append(SerialPort(SimSide(sim), pty_pair[1], reactor, baudrate=115200))
        return pty_pair[0]
    yield attach
    for port in ports:
        port.loseConnection()


def modem_settings(dev: str, **kw) -> ModemSettings:
    return ModemSettings(device=dev, command_timeout=1.0, submit_timeout=2.0, **kw)


def submitted(sim: ModemSim):
    return [decode_submit(bytes.fromhex(pdu)) for pdu, _ in sim.submitted]


@pytest_twisted.inlineCallbacks
def test_pdus_sent_through_the_modem(sim_on):
    sim = ModemSim()
    carrier = ModemCarrier(modem_settings(sim_on(sim)), reactor=reactor)
    try:
        p = payload(nid=77)
        sent = yield carrier.send("+4912345678", p)
        assert sent.detail.startswith("1 SMS via modem")
        [sms] = submitted(sim)
        assert sms.destination == "+4912345678" and sms.dcs == 0x04 and sms.validity == 0xA7
        assert sms.udh.ports == (2948, 9200) and sms.udh.concat is None
        assert sms.user_data == p.push
        check_san(check_push(sms.user_data), datastores=("contacts", "calendar"), session_id=77)
        assert sim.commands[:4] == ["AT", "ATE0", "AT+CPIN?", "AT+CMGF=0"]
        assert sim.commands[-1] == f"AT+CMGS={sim.submitted[0][1]}"
        # a long push: concatenated parts with one reference, reassembled exactly
        san = sanlib.encode_san(sanlib.SAN(server_id="y" * 240, session_id=3), password=None)
        big = Payload(san=san, content_type=wsp.SAN_CONTENT_TYPE, push=wsp.san_push(san),
                      form="1.2")
        yield carrier.send("+4912345678", big)
        parts = submitted(sim)[1:]
        assert len(parts) == 3 and len({s.udh.concat.ref for s in parts}) == 1
        joiner = Reassembler()
        wholes = [joiner.add(sender="+4912345678", udh=s.udh, data=s.user_data, now=0.0) for s in parts]
        assert wholes[-1].data == big.push and wholes[:2] == [None, None]
    finally:
        carrier.stop()


@pytest_twisted.inlineCallbacks
def test_pin_is_entered(sim_on):
    sim = ModemSim(pin="1234")
    carrier = ModemCarrier(modem_settings(sim_on(sim), pin="1234"), reactor=reactor)
    try:
        yield carrier.send("+4912345678", payload())
        assert 'AT+CPIN="1234"' in sim.commands and len(sim.submitted) == 1
    finally:
        carrier.stop()


@pytest_twisted.inlineCallbacks
def test_modem_errors_and_timeouts_are_carrier_errors(sim_on):
    sim = ModemSim(cms_error=38, cmee=1)
    carrier = ModemCarrier(modem_settings(sim_on(sim)), reactor=reactor)
    try:
        with pytest.raises(CarrierError, match=r"\+CMS ERROR: 38"):
            yield carrier.send("+4912345678", payload())
        sim.cms_error = None
        sim.drop_prompt = True                      # no "> ": the prompt times out
        with pytest.raises(CarrierError, match="timeout"):
            yield carrier.send("+4912345678", payload())
        sim.drop_prompt = False
        yield deferLater(reactor, 1.5, lambda: None)  # recovery window
        assert sim.cancelled == 1                   # we sent ESC to abandon the prompt
        yield carrier.send("+4912345678", payload())  # the link works again
        assert len(sim.submitted) == 1
    finally:
        carrier.stop()


@pytest_twisted.inlineCallbacks
def test_cannot_open_a_missing_port(tmp_path):
    carrier = ModemCarrier(modem_settings(str(tmp_path / "nope")), reactor=reactor)
    with pytest.raises(CarrierError, match="cannot open modem"):
        yield carrier.send("+4912345678", payload())


@pytest_twisted.inlineCallbacks
def test_service_retries_then_records_failure_and_moves_on(sim_on, tmp_path):
    sim = ModemSim(cms_error=500, cmee=1)
    dev = sim_on(sim)
    store = open_store(tmp_path)
    ns = settings(retry_delay=0.2, max_attempts=3, poll_interval=0.1, send_timeout=10.0)
    carrier = ModemCarrier(modem_settings(dev), reactor=reactor)
    svc = NotifyService(ns, server_id="omads-test", datastores=DEFAULT_DATASTORES,
                        reactor=reactor, store=store, run=sync_run, carriers={"modem": carrier})
    queue(store, lambda q: q.put_device(device("IMEI:1", "modem:+4912345678")))
    try:
        n = queue(store, lambda q: q.enqueue(device_id="IMEI:1", datastores=("notes",),
                                             via=None, now=reactor.seconds()))[0]
        svc.startService()
        yield _until(lambda: queue(store, lambda q: q.get(n.id)).state == FAILED, 20)
        got = queue(store, lambda q: q.get(n.id))
        assert got.attempts == 3 and "+CMS ERROR: 500" in got.reason
        assert got.route == None or got.route  # noqa: E711  (no successful route)
        sim.cms_error = None                   # the modem recovers: the next one goes out
        m = queue(store, lambda q: q.enqueue(device_id="IMEI:1", datastores=(), via=None,
                                             now=reactor.seconds()))[0]
        svc.poll()
        yield _until(lambda: queue(store, lambda q: q.get(m.id)).state == SENT, 20)
        [sms] = submitted(sim)
        check_san(check_push(sms.user_data), datastores=tuple(d.name for d in DEFAULT_DATASTORES))
        assert queue(store, lambda q: q.get(n.id)).state == FAILED
        assert all(x.state != QUEUED for x in queue(store, lambda q: q.list()))
    finally:
        yield svc.stopService()
        store.close()


@pytest_twisted.inlineCallbacks
def _until(check, timeout):
    deadline = reactor.seconds() + timeout
    while not check():
        assert reactor.seconds() < deadline, "timed out"
        yield deferLater(reactor, 0.05, lambda: None)

