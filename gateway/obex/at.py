"""The AT preamble of OBEX over a serial cable (omads-protocol.md §5.3; 3GPP TS 27.007).

``AtListener`` plays the phone: it answers ``AT``/``ATZ``/``ATE0``/``ATE1``/``AT+GMI`` with OK
and ``AT+CPROT=0`` (or Sony Ericsson's ``AT*EOBEX``) with CONNECT, then hands over to OBEX.
A first byte that is an OBEX Connect or Abort (obexftp's "transparent" probe) hands over at
once. ``AtDialer`` plays the PC: on ``send(Dial(), now)`` it sends ``AT+CPROT=0`` and waits
for CONNECT within a timeout. Both emit ``ObexStarted(data=...)`` with the bytes that
followed, which the host feeds to the OBEX core it switches to. Lines are read by the one
AT line reader, :mod:`gateway.at`. The verbs are those of every core (``receive_data(data,
now)``, ``next_event()``/``events()``, ``send(event, now)``, ``data_to_send()``,
``next_deadline()``/``handle_timeout(now)``); bytes after the end raise, EOF is ignored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, auto

from gateway.at import CALL_RESULTS, LineBuffer, final_result

from .errors import LocalProtocolError

__all__ = ["ObexStarted", "AtFailed", "AtCommand", "Dial", "AtListener", "AtDialer",
           "SWITCH_COMMANDS", "MAX_LINE"]

MAX_LINE = 256
#: Commands that switch the line to OBEX (§5.3 table; generic and Sony Ericsson).
SWITCH_COMMANDS = frozenset({"AT+CPROT=0", "AT*EOBEX"})
#: First bytes that mean "OBEX already": Connect, Abort (obexftp's probe, notify-obex.md §3.3).
_OBEX_FIRST_BYTES = frozenset({0x80, 0xFF})


@dataclass(frozen=True, slots=True, kw_only=True)
class ObexStarted:
    """The line now carries OBEX; ``data`` are the bytes already received after the switch."""

    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class AtFailed:
    """The preamble failed: EOF, an error reply, an over-long line or a timeout."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AtCommand:
    """A command line the listener answered (for the log)."""

    command: str
    reply: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial:
    """The dialer's one command: send the first step's command and wait for its result."""


class AtState(Enum):
    IDLE = auto()       # the dialer before Dial
    COMMAND = auto()
    OBEX = auto()
    FAILED = auto()


class _AtCore:
    _initial = AtState.COMMAND

    def __init__(self) -> None:
        self._lines = LineBuffer()
        self._out = bytearray()
        self._events: deque = deque()
        self.state = self._initial

    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes from the line; ``b""`` means it closed."""
        if self.state in (AtState.OBEX, AtState.FAILED):
            if not data:
                return                       # EOF after the end: nothing left to say
            raise LocalProtocolError(f"AT preamble is over ({self.state.name})")
        if self.state is AtState.IDLE:
            raise LocalProtocolError("send(Dial()) first")
        if not data:
            self._fail("eof")
            return
        self._lines.feed(data)
        self._consume(now)

    def _consume(self, now: float) -> None:
        raise NotImplementedError

    def _switch(self) -> None:
        self.state = AtState.OBEX
        self._events.append(ObexStarted(data=self._lines.take_rest()))

    def _fail(self, reason: str) -> None:
        self.state = AtState.FAILED
        self._events.append(AtFailed(reason=reason))

    def next_event(self):
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator:
        while self._events:
            yield self._events.popleft()

    def send(self, event, now: float) -> bytes:
        raise LocalProtocolError(f"{type(self).__name__} cannot send {type(event).__name__}")

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def next_deadline(self) -> float | None:
        return None

    def handle_timeout(self, now: float) -> None:
        return None


class AtListener(_AtCore):
    """The phone side of the preamble (answers commands; result codes are verbose). With
    ``idle_timeout``, a line silent that long fails (``AtFailed(reason="idle timeout")``)."""

    #: command -> (result text, echo after the command: True/False/None = unchanged)
    REPLIES = {"AT": ("OK", None), "ATZ": ("OK", None), "AT&F": ("OK", None),
               "ATE0": ("OK", False), "ATE1": ("OK", True),
               "AT+GMI": ("omads-gateway\r\n\r\nOK", None),
               "AT+CGMI": ("omads-gateway\r\n\r\nOK", None)}

    def __init__(self, *, now: float, echo: bool = False,
                 idle_timeout: float | None = None) -> None:
        super().__init__()
        self.echo = echo
        self.idle_timeout = idle_timeout
        self._last_activity = now

    def _consume(self, now: float) -> None:
        self._last_activity = now
        if self._lines.first_byte() in _OBEX_FIRST_BYTES:
            self._switch()
            return
        while (line := self._lines.next_line()) is not None:
            self._answer(line)
            if self.state is AtState.OBEX:
                return
        if len(self._lines) > MAX_LINE:
            self._lines.discard()
            self._out += b"\r\nERROR\r\n"

    def _answer(self, line: str) -> None:
        command = line.upper()
        if self.echo:
            self._out += line.encode("latin-1") + b"\r"
        if command in SWITCH_COMMANDS:
            self._out += b"\r\nCONNECT\r\n"
            self._events.append(AtCommand(command=command, reply="CONNECT"))
            self._switch()
            return
        reply, echo = self.REPLIES.get(command, ("ERROR", None))
        if echo is not None:
            self.echo = echo
        self._out += b"\r\n" + reply.encode("latin-1") + b"\r\n"
        self._events.append(AtCommand(command=command, reply=reply))

    def next_deadline(self) -> float | None:
        if self.idle_timeout is None or self.state is not AtState.COMMAND:
            return None
        return self._last_activity + self.idle_timeout

    def handle_timeout(self, now: float) -> None:
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self._fail("idle timeout")


class AtDialer(_AtCore):
    """The PC side: send each command, wait for its expected result within ``timeout``."""

    _initial = AtState.IDLE

    def __init__(self, *, timeout: float = 5.0,
                 steps: tuple[tuple[str, str], ...] = (("AT+CPROT=0", "CONNECT"),)) -> None:
        super().__init__()
        if not steps:
            raise LocalProtocolError("AtDialer needs at least one step")
        self.timeout = timeout
        self._steps = list(steps)
        self._deadline = 0.0

    def send(self, event, now: float) -> bytes:
        if not isinstance(event, Dial):
            return super().send(event, now)
        if self.state is not AtState.IDLE:
            raise LocalProtocolError("the dialer has dialled already")
        self.state = AtState.COMMAND
        self._command(now)
        return self.data_to_send()

    def _command(self, now: float) -> None:
        self._out += self._steps[0][0].encode("ascii") + b"\r"
        self._deadline = now + self.timeout

    def _consume(self, now: float, *, wait_for_lf: bool = True) -> None:
        while (line := self._lines.next_line(wait_for_lf=wait_for_lf)) is not None:
            command, expected = self._steps[0]
            upper = line.upper()
            if upper == command.upper():
                continue                       # the modem's echo
            if upper == expected.upper():
                self._steps.pop(0)
                if not self._steps:
                    self._switch()
                    return
                self._command(now)
            elif upper in CALL_RESULTS or (
                    (result := final_result(line)) is not None and not result.ok):
                self._fail(f"{command} -> {line}")
                return
        if len(self._lines) > MAX_LINE:
            self._fail("reply line too long")

    def next_deadline(self) -> float | None:
        return self._deadline if self.state is AtState.COMMAND else None

    def handle_timeout(self, now: float) -> None:
        if self.state is AtState.COMMAND and now >= self._deadline:
            self._consume(now, wait_for_lf=False)      # a final CR without its LF counts now
        if self.state is AtState.COMMAND and now >= self._deadline:
            self._fail(f"no reply to {self._steps[0][0]} within {self.timeout}s")
