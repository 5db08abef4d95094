"""The one core host (gateway/transport/host.py) on a ``Clock`` and a ``StringTransport``:
bytes in at the reactor's time, output written, events handed over, one timer re-armed
from ``next_deadline()``, EOF on connection loss; no real reactor, no sleeps."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from gateway.obex.at import AtDialer, AtFailed, Dial
from gateway.syncml.errors import LocalProtocolError
from gateway.transport.host import CoreHost, DatagramHost, HostedProtocol


@dataclass(frozen=True, kw_only=True)
class Got:
    data: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class Idle:
    now: float


@dataclass(frozen=True, kw_only=True)
class Say:
    text: bytes


class EchoCore:
    """A scripted stream core: acknowledges every chunk, goes idle 5 s after the last."""

    def __init__(self, *, now: float = 0.0, idle: float | None = 5.0):
        self.calls: list[tuple] = []
        self._out = bytearray()
        self._events: list = []
        self.idle = idle
        self.last = now

    def receive_data(self, data: bytes, now: float) -> None:
        self.calls.append(("receive_data", data, now))
        self.last = now
        self._events.append(Got(data=data, now=now))
        if data:
            self._out += b"ack:" + data + b";"
        else:
            self.idle = None

    def send(self, command: Say, now: float) -> bytes:
        self.calls.append(("send", command, now))
        self._out += command.text
        return self.data_to_send()

    def next_event(self):
        return self._events.pop(0) if self._events else None

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_deadline(self) -> float | None:
        return None if self.idle is None else self.last + self.idle

    def handle_timeout(self, now: float) -> None:
        self.calls.append(("handle_timeout", now))
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self.idle = None
            self._events.append(Idle(now=now))


class ListCore(EchoCore):
    """The same as a datagram core: its output is a list of messages."""

    def __init__(self) -> None:
        super().__init__(idle=None)
        self._messages: list[bytes] = []

    def receive_data(self, data: bytes, now: float) -> None:
        self._messages += [b"one:" + data, b"two:" + data]

    def data_to_send(self) -> list[bytes]:
        out, self._messages = self._messages, []
        return out


def hosted(core=None, **kw):
    clock = Clock()
    clock.advance(100)
    transport = StringTransport()
    events: list = []
    host = CoreHost(core or EchoCore(now=100.0), reactor=clock, on_event=events.append,
                    write=transport.write, **kw)
    return host, clock, transport, events


def test_bytes_in_at_the_reactors_time_output_out_events_handed_over():
    host, clock, transport, events = hosted()
    clock.advance(2.5)
    host.receive_data(b"hello")
    assert host.core.calls == [("receive_data", b"hello", 102.5)]
    assert transport.value() == b"ack:hello;"
    assert events == [Got(data=b"hello", now=102.5)]


def test_one_timer_re_armed_from_next_deadline():
    host, clock, transport, events = hosted()
    host.flush()
    assert [c.getTime() for c in clock.getDelayedCalls()] == [105.0]
    clock.advance(3)
    host.receive_data(b"x")                          # activity moves the deadline
    assert [c.getTime() for c in clock.getDelayedCalls()] == [108.0]
    clock.advance(4.9)
    assert events == [Got(data=b"x", now=103.0)]
    clock.advance(0.1)
    assert events[-1] == Idle(now=108.0)
    assert host.core.calls[-1] == ("handle_timeout", 108.0)
    assert clock.getDelayedCalls() == []             # the core has no deadline now


def test_send_writes_the_commands_bytes():
    host, clock, transport, _ = hosted()
    clock.advance(1)
    host.send(Say(text=b"hi"))
    assert host.core.calls == [("send", Say(text=b"hi"), 101.0)]
    assert transport.value() == b"hi"


def test_connection_lost_is_eof_then_stop():
    host, clock, transport, events = hosted()
    host.receive_data(b"a")
    transport.clear()
    clock.advance(1)
    host.connection_lost()
    assert host.core.calls[-1] == ("receive_data", b"", 101.0)
    assert events[-1] == Got(data=b"", now=101.0)
    assert host.stopped and clock.getDelayedCalls() == []
    host.receive_data(b"late")                       # ignored once stopped
    assert transport.value() == b"" and len(host.core.calls) == 2
    with pytest.raises(LocalProtocolError):
        host.send(Say(text=b"x"))


def test_output_before_attach_waits_for_it():
    clock = Clock()
    events: list = []
    host = CoreHost(EchoCore(), reactor=clock, on_event=events.append)
    host.send(Say(text=b"early;"))
    host.receive_data(b"b")
    transport = StringTransport()
    host.attach(transport.write)
    assert transport.value() == b"early;ack:b;"


def test_handlers_may_reply_and_switch_cores():
    """An event handler sends a reply (written after the bytes that caused it) and then
    switches to a second core, which runs from then on (its timer, its events)."""
    second = EchoCore(now=100.0, idle=1.0)
    host, clock, transport, events = hosted()

    def on_event(event):
        events.append(event)
        if isinstance(event, Got) and event.data == b"switch":
            host.send(Say(text=b"bye;"))
            host.switch(second)
    host.on_event = on_event
    host.receive_data(b"switch")
    assert transport.value() == b"ack:switch;bye;"
    host.receive_data(b"next")
    assert second.calls == [("receive_data", b"next", 100.0)]
    assert [c.getTime() for c in clock.getDelayedCalls()] == [101.0]
    clock.advance(1)
    assert events[-1] == Idle(now=101.0)


def test_stop_from_a_handler_ends_the_drain():
    host, clock, transport, events = hosted()
    host.core._events.append(Idle(now=0.0))
    host.on_event = lambda event: (events.append(event), host.stop())
    host.receive_data(b"z")
    assert events == [Idle(now=0.0)]                 # the Got after it is not handed over
    assert clock.getDelayedCalls() == []


def test_datagram_host_writes_each_message():
    clock = Clock()
    written: list[bytes] = []
    host = DatagramHost(ListCore(), reactor=clock, on_event=lambda e: None, write=written.append)
    host.receive_data(b"q")
    assert written == [b"one:q", b"two:q"]


def test_hosted_protocol_on_a_string_transport():
    clock = Clock()
    events: list = []

    class Proto(HostedProtocol):
        def __init__(self):
            self.host = CoreHost(EchoCore(), reactor=clock, on_event=events.append)

    proto = Proto()
    proto.host.send(Say(text=b"banner;"))
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"1")
    assert transport.value() == b"banner;ack:1;"
    proto.connectionLost(None)
    assert proto.host.stopped and events[-1] == Got(data=b"", now=0.0)


def test_a_real_core_times_out_on_the_clock():
    """The AT dialer in the host: no CONNECT within its timeout fails it at the
    clock's time, with nothing but Clock.advance."""
    host, clock, transport, events = hosted(AtDialer(timeout=5.0))
    host.send(Dial())
    assert transport.value() == b"AT+CPROT=0\r"
    clock.advance(4.9)
    assert events == []
    clock.advance(0.1)
    assert [type(e) for e in events] == [AtFailed]
    assert clock.getDelayedCalls() == []
