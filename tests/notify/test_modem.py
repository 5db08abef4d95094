"""The AT modem machine against an in-memory simulator of fake_modem.py's dialogue."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import modem as m
from gateway.notify import sms
from gateway.syncml.errors import LocalProtocolError
from tests.notify.modem_sim import ModemSim
from tests.notify.test_sms import DELIVER, KANNEL

STARTUP = ["AT", "ATE0", "AT+CPIN?", "AT+CMGF=0", "AT+CNMI=2,1,0,0,0"]


class Rig:
    """Joins a Modem and a ModemSim; time only moves when a test says so."""

    def __init__(self, sim: ModemSim | None = None, config: m.ModemConfig | None = None,
                 chunk: int | None = None):
        self.sim = sim or ModemSim()
        self.modem = m.Modem(config)
        self.now = 100.0
        self.chunk = chunk
        self.events: list = []
        self.unsent = b""                 # what send() returned, for the next pump
        self.ids = itertools.count(1)

    def feed(self, data: bytes) -> None:
        step = self.chunk or max(len(data), 1)
        for i in range(0, len(data), step):
            self.modem.receive_data(data[i:i + step], self.now)

    def send(self, command) -> bytes:
        out = self.modem.send(command, self.now)
        self.unsent += out
        return out

    def submit(self, pdu_hex: str, length: int) -> int:
        """Send one SubmitPdu with the next request id (1, 2, ...); returns the id."""
        rid = next(self.ids)
        self.send(m.SubmitPdu(request_id=rid, pdu_hex=pdu_hex, length=length))
        return rid

    def pump(self) -> list:
        for _ in range(200):
            out, self.unsent = self.unsent + self.modem.data_to_send(), b""
            if not out:
                break
            self.feed(self.sim.feed(out))
        while (ev := self.modem.next_event()) is not None:
            self.events.append(ev)
        return self.events

    def start(self) -> list:
        self.send(m.Start())
        return self.pump()

    def advance(self, seconds: float) -> list:
        self.now += seconds
        self.modem.handle_timeout(self.now)
        return self.pump()

    def of(self, cls) -> list:
        return [e for e in self.events if isinstance(e, cls)]


@pytest.fixture(params=[None, 1], ids=["whole", "bytewise"])
def chunk(request):
    return request.param


def test_startup_sequence(chunk):
    """AT, ATE0, AT+CPIN? (READY), AT+CMGF=0, AT+CNMI, then ModemReady; echo is skipped."""
    rig = Rig(chunk=chunk)
    assert rig.start() == [m.ModemReady()]
    assert rig.sim.commands == STARTUP
    assert rig.modem.phase is m.Phase.READY and rig.modem.next_deadline() is None


def test_send_pdu(chunk):
    """AT+CMGS=<len>, the '> ' prompt, PDU + Ctrl-Z, then +CMGS: <mr> and OK -> SmsSent."""
    rig = Rig(chunk=chunk)
    rig.start()
    rid = rig.submit(KANNEL, 32)
    rig.pump()
    assert rig.sim.submitted == [(KANNEL, 32)]
    assert rig.of(m.SmsSent) == [m.SmsSent(request_id=rid, mr=1)]
    assert rig.modem.link is m.Link.IDLE


def test_exact_bytes_of_a_submission():
    """The bytes on the wire: the command, then after the prompt the PDU and 0x1A."""
    rig = Rig()
    rig.start()
    assert rig.modem.send(m.SubmitPdu(request_id=1, pdu_hex="0011", length=1),
                          rig.now) == b"AT+CMGS=1\r"
    rig.modem.receive_data(b"\r\n> ", rig.now)     # no line end after the prompt
    assert rig.modem.data_to_send() == b"0011\x1a"
    rig.modem.receive_data(b"\r\n+CMGS: 77\r\n\r\nOK\r\n", rig.now)
    assert rig.modem.next_event() == m.SmsSent(request_id=1, mr=77)


def test_one_command_at_a_time():
    """A second submission waits until the first one's final result."""
    rig = Rig()
    rig.start()
    assert rig.modem.send(m.SubmitPdu(request_id=1, pdu_hex=KANNEL, length=32),
                          rig.now) == b"AT+CMGS=32\r"
    assert rig.modem.send(m.SubmitPdu(request_id=2, pdu_hex=KANNEL, length=32),
                          rig.now) == b""
    rig.feed(rig.sim.feed(b"AT+CMGS=32\r"))
    rig.pump()
    assert [e.mr for e in rig.of(m.SmsSent)] == [1, 2]


def test_submission_before_ready_waits_for_startup():
    rig = Rig()
    rid = 1
    assert rig.modem.send(m.SubmitPdu(request_id=rid, pdu_hex=KANNEL, length=32),
                          rig.now) == b""
    rig.start()
    assert rig.sim.commands == STARTUP + ["AT+CMGS=32"]
    assert rig.events == [m.ModemReady(), m.SmsSent(request_id=rid, mr=1)]


def test_cms_error():
    """+CMS ERROR: <n> after the PDU -> SmsFailed with the code."""
    rig = Rig(ModemSim(cmee=1, cms_error=500))
    rig.start()
    rid = rig.submit(KANNEL, 32)
    rig.pump()
    assert rig.of(m.SmsFailed) == [m.SmsFailed(request_id=rid, reason="+CMS ERROR: 500",
                                               cms_error=500)]


def test_plain_error_for_wrong_length():
    """The simulator, like real modems, answers ERROR when the declared length is wrong."""
    rig = Rig()
    rig.start()
    rig.submit(KANNEL, 31)
    rig.pump()
    [failed] = rig.of(m.SmsFailed)
    assert failed.reason == "ERROR" and failed.cms_error is None
    assert rig.sim.submitted == []


def test_missing_prompt_times_out_and_recovers():
    """No '> ': CommandTimeout + SmsFailed, ESC abandons the prompt, the next send works."""
    sim = ModemSim(drop_prompt=True)
    rig = Rig(sim)
    rig.start()
    rid = rig.submit(KANNEL, 32)
    rig.pump()
    assert rig.modem.next_deadline() == rig.now + 10.0
    rig.advance(9.9)
    assert rig.of(m.CommandTimeout) == []
    rig.advance(0.2)
    assert rig.of(m.CommandTimeout) == [m.CommandTimeout(command="AT+CMGS=32")]
    assert rig.of(m.SmsFailed) == [m.SmsFailed(request_id=rid, reason="timeout")]
    assert sim.cancelled == 1                  # the ESC reached the simulator: it said OK
    assert rig.modem.link is m.Link.IDLE       # ... and that OK was swallowed
    sim.drop_prompt = False
    rid2 = rig.submit(KANNEL, 32)
    rig.pump()
    assert rig.of(m.SmsSent) == [m.SmsSent(request_id=rid2, mr=1)]


def test_silent_modem_recovery_window():
    """A command that gets no answer at all: timeout, then a recovery wait, then the queue."""
    sim = ModemSim(silent=frozenset({"AT+CMGR=4"}))
    rig = Rig(sim)
    rig.start()
    rig.feed(b'\r\n+CMTI: "SM",4\r\n')
    rig.pump()
    rig.submit(KANNEL, 32)
    rig.pump()
    assert rig.sim.commands[-1] == "AT+CMGR=4"
    rig.advance(5.0)
    assert rig.of(m.CommandTimeout) == [m.CommandTimeout(command="AT+CMGR=4")]
    assert rig.modem.link is m.Link.RECOVERING
    assert rig.modem.next_deadline() == rig.now + 2.0
    rig.advance(2.0)
    assert rig.sim.commands[-1] == "AT+CMGS=32"
    assert len(rig.of(m.SmsSent)) == 1


def test_late_final_result_is_swallowed():
    """An OK arriving after a timeout does not complete the next command."""
    rig = Rig()
    rig.start()
    rig.modem.receive_data(b'+CMTI: "SM",9\r\n', rig.now)
    assert rig.modem.data_to_send() == b"AT+CMGR=9\r"
    rig.advance(5.0)
    rid = 1
    assert rig.modem.send(m.SubmitPdu(request_id=rid, pdu_hex="0011", length=1),
                          rig.now) == b""          # still recovering
    rig.modem.receive_data(b"\r\nOK\r\n", rig.now)   # the late answer to AT+CMGR
    assert rig.modem.data_to_send() == b"AT+CMGS=1\r"
    rig.modem.receive_data(b"\r\n> ", rig.now)
    rig.modem.receive_data(b"\r\n+CMGS: 3\r\n\r\nOK\r\n", rig.now)
    assert rig.of(m.CommandTimeout) == [m.CommandTimeout(command="AT+CMGR=9")]
    assert rig.modem.next_event() == m.SmsSent(request_id=rid, mr=3)


def test_submit_result_timeout():
    """Prompt seen, PDU sent, no +CMGS within submit_timeout -> failure."""
    rig = Rig(config=m.ModemConfig(submit_timeout=30))
    rig.start()
    rid = 1
    rig.modem.send(m.SubmitPdu(request_id=rid, pdu_hex="0011", length=1), rig.now)
    rig.modem.receive_data(b"\r\n> ", rig.now)
    assert rig.modem.data_to_send() == b"0011\x1a"
    assert rig.modem.next_deadline() == rig.now + 30
    rig.now += 30
    rig.modem.handle_timeout(rig.now)
    assert rig.modem.data_to_send() == b"\x1b"
    events = [rig.modem.next_event(), rig.modem.next_event()]
    assert events == [m.CommandTimeout(command="AT+CMGS=1"),
                      m.SmsFailed(request_id=rid, reason="timeout")]


def test_startup_timeout_fails_modem():
    rig = Rig(ModemSim(silent=frozenset({"AT+CMGF=0"})))
    rig.start()
    rid = rig.submit(KANNEL, 32)
    rig.advance(5.0)
    assert rig.of(m.CommandTimeout) == [m.CommandTimeout(command="AT+CMGF=0")]
    assert rig.of(m.ModemFailed) == [m.ModemFailed(reason="AT+CMGF=0 timed out")]
    assert rig.of(m.SmsFailed)[0].request_id == rid
    assert rig.modem.phase is m.Phase.FAILED


def test_sim_pin_sent_when_configured():
    rig = Rig(ModemSim(pin="1234"), m.ModemConfig(pin="1234"))
    assert rig.start() == [m.ModemReady()]
    assert rig.sim.commands == ["AT", "ATE0", "AT+CPIN?", 'AT+CPIN="1234"', "AT+CMGF=0",
                                "AT+CNMI=2,1,0,0,0"]


def test_sim_pin_without_configured_pin():
    rig = Rig(ModemSim(pin="1234"))
    [failed] = rig.start()
    assert isinstance(failed, m.ModemFailed) and "SIM PIN" in failed.reason
    rid = rig.submit(KANNEL, 32)
    assert rig.modem.next_event() == m.SmsFailed(request_id=rid, reason="modem not ready")


def test_wrong_pin_is_not_shown():
    rig = Rig(ModemSim(pin="1234"), m.ModemConfig(pin="9999"))
    [failed] = rig.start()
    assert isinstance(failed, m.ModemFailed)
    assert "9999" not in failed.reason and "CME ERROR: 16" in failed.reason


def test_restart_after_failure():
    sim = ModemSim(pin="1234")
    rig = Rig(sim)
    rig.start()
    sim.pin_ok = True
    rig.events.clear()
    assert rig.start() == [m.ModemReady()]


def test_incoming_sms_read_and_deleted(chunk):
    """+CMTI -> AT+CMGR=<i> -> SmsReceived(pdu, i) -> AT+CMGD=<i>."""
    rig = Rig(chunk=chunk)
    rig.start()
    rig.feed(rig.sim.deliver(DELIVER.hex().upper(), 3))
    rig.pump()
    assert rig.sim.commands[-2:] == ["AT+CMGR=3", "AT+CMGD=3"]
    [got] = rig.of(m.SmsReceived)
    assert got.index == 3
    assert sms.decode_deliver(got.pdu).user_data == b"ABC"
    assert rig.sim.storage == {}


def test_indication_during_submission_is_read_afterwards():
    rig = Rig()
    rig.start()
    rig.sim.storage[5] = DELIVER.hex()
    rig.modem.send(m.SubmitPdu(request_id=1, pdu_hex="0011", length=1), rig.now)
    rig.modem.receive_data(b'\r\n+CMTI: "SM",5\r\n\r\n> ', rig.now)
    assert rig.modem.data_to_send() == b"0011\x1a"
    rig.modem.receive_data(b"\r\n+CMGS: 1\r\n\r\nOK\r\n", rig.now)
    assert rig.modem.data_to_send() == b"AT+CMGR=5\r"


def test_routed_cmt():
    """+CMT: (CNMI mode 2) carries the PDU on the next line."""
    rig = Rig()
    rig.start()
    rig.feed(b"\r\n+CMT: ,24\r\n" + DELIVER.hex().encode() + b"\r\n")
    rig.pump()
    assert rig.of(m.SmsReceived) == [m.SmsReceived(pdu=DELIVER)]


def test_read_error_is_reported():
    rig = Rig()
    rig.start()
    rig.feed(b'+CMTI: "SM",8\r\n')       # nothing stored at 8: +CMS ERROR: 321
    rig.pump()
    assert rig.of(m.CommandFailed) == [m.CommandFailed(command="AT+CMGR=8",
                                                       error="+CMS ERROR: 321")]


def test_ring_and_echo_tolerated():
    """RING and other URCs are ignored; echo after ATE0 and of the PDU does no harm."""
    sim = ModemSim(echo_pdu=True)
    rig = Rig(sim)
    rig.start()
    sim.echo = True                # a modem that keeps echoing after ATE0
    rig.feed(b"\r\nRING\r\n\r\n+CREG: 1\r\n")
    rig.submit(KANNEL, 32)
    rig.pump()
    assert [type(e) for e in rig.events] == [m.ModemReady, m.SmsSent]


def test_eof_fails_pending():
    """EOF fails the submission in flight and the queued one; start() begins afresh."""
    rig = Rig()
    rig.start()
    first, second = 1, 2
    rig.modem.send(m.SubmitPdu(request_id=first, pdu_hex="0011", length=1), rig.now)
    rig.modem.send(m.SubmitPdu(request_id=second, pdu_hex="0011", length=1), rig.now)
    rig.modem.receive_data(b"", rig.now)
    lost = "modem connection closed"
    assert [rig.modem.next_event() for _ in range(3)] == [
        m.SmsFailed(request_id=first, reason=lost), m.ModemFailed(reason=lost),
        m.SmsFailed(request_id=second, reason=lost)]
    assert rig.modem.link is m.Link.IDLE and rig.modem.next_deadline() is None
    rig.modem.data_to_send()
    rig.sim = ModemSim()
    rig.events.clear()
    assert rig.start() == [m.ModemReady()]


def test_bad_arguments():
    with pytest.raises(ValueError):
        m.Modem().send(m.SubmitPdu(request_id=1, pdu_hex="XYZ", length=1), 0.0)
    with pytest.raises(ValueError):
        m.Modem().send(m.SubmitPdu(request_id=1, pdu_hex="00", length=0), 0.0)
    modem = m.Modem()
    modem.send(m.SubmitPdu(request_id=1, pdu_hex="00", length=1), 0.0)
    with pytest.raises(LocalProtocolError):         # the caller's ids must be unique
        modem.send(m.SubmitPdu(request_id=1, pdu_hex="00", length=1), 0.0)
    with pytest.raises(LocalProtocolError):
        modem.send(m.SmsSent(request_id=1, mr=1), 0.0)


@given(st.lists(st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\n> ", b'+CMTI: "SM",1\r\n',
                     b"+CMGR: 0,,3\r\n", b"+CMT: ,3\r\n", b"00\r\n", b"+CMGS: 4\r\n",
                     b"+CMS ERROR: 1\r\n", b"RING\r\n", b"+CPIN: SIM PIN\r\n"]),
    st.floats(0, 70).map(lambda t: t)), max_size=40))
@settings(max_examples=300)
def test_any_input_keeps_the_machine_consistent(steps):
    """Any byte stream and timer sequence leaves valid states and raises nothing."""
    mod = m.Modem()
    now = 0.0
    mod.send(m.Start(), now)
    mod.send(m.SubmitPdu(request_id=1, pdu_hex="0011", length=1), now)
    for step in steps:
        if isinstance(step, float):
            now += step
            mod.handle_timeout(now)
        else:
            mod.receive_data(step, now)
        mod.data_to_send()
        while mod.next_event() is not None:
            pass
        assert mod.link in m.Link and mod.phase in m.Phase
        # a timer runs exactly while something is awaited
        assert (mod.next_deadline() is None) == (mod.link is m.Link.IDLE)
