"""The AT preamble of OBEX over a serial cable (omads-protocol.md §5.3; 3GPP TS 27.007).

``AtListener`` plays the phone: it answers ``AT``/``ATZ``/``ATE0``/``ATE1``/``AT+GMI`` with OK
and ``AT+CPROT=0`` (or Sony Ericsson's ``AT*EOBEX``) with CONNECT, then hands over to OBEX.
A first byte that is an OBEX Connect or Abort (obexftp's "transparent" probe) hands over at
once. ``AtDialer`` plays the PC: it sends ``AT+CPROT=0`` and waits for CONNECT within a
timeout. Both emit ``ObexStarted(data=...)`` with the bytes that followed, which the host
feeds to the OBEX core it switches to. Same verbs as the other cores.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, auto

from .errors import LocalProtocolError

__all__ = ["ObexStarted", "AtFailed", "AtCommand", "AtListener", "AtDialer",
           "SWITCH_COMMANDS", "MAX_LINE"]

MAX_LINE = 256
#: Commands that switch the line to OBEX (§5.3 table; generic and Sony Ericsson).
SWITCH_COMMANDS = frozenset({"AT+CPROT=0", "AT*EOBEX"})
#: First bytes that mean "OBEX already": Connect, Abort (obexftp's probe, notify-obex.md §3.3).
_OBEX_FIRST_BYTES = frozenset({0x80, 0xFF})
_EOL = b"\r\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class ObexStarted:
    """The line now carries OBEX; ``data`` are the bytes already received after the switch."""

    data: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class AtFailed:
    """The dialer gave up: an error reply, an over-long line or a timeout."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AtCommand:
    """A command line the listener answered (for the log)."""

    command: str
    reply: str


class AtState(Enum):
    COMMAND = auto()
    OBEX = auto()
    FAILED = auto()


def _lines(buf: bytearray, *, wait_for_lf: bool = False) -> Iterator[str]:
    """Pop complete CR- or LF-terminated lines (empty ones skipped) off ``buf``. With
    ``wait_for_lf`` a CR at the very end of ``buf`` is not a terminator yet (the LF of a
    verbose result code may follow), and a CR LF pair is consumed whole."""
    while True:
        cut = min((i for i in (buf.find(b"\r"), buf.find(b"\n")) if i >= 0), default=-1)
        if cut < 0 or (wait_for_lf and buf[cut] == 0x0D and cut + 1 == len(buf)):
            return
        line = bytes(buf[:cut]).decode("latin-1").strip()
        end = cut + 2 if wait_for_lf and buf[cut:cut + 2] == b"\r\n" else cut + 1
        del buf[:end]
        if line:
            yield line


class _AtCore:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._out = bytearray()
        self._events: deque = deque()
        self.state = AtState.COMMAND

    def _switch(self) -> None:
        self.state = AtState.OBEX
        data = bytes(self._buf).lstrip(_EOL)
        self._buf.clear()
        self._events.append(ObexStarted(data=data))

    def next_event(self):
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator:
        while self._events:
            yield self._events.popleft()

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def _check_open(self) -> None:
        if self.state is not AtState.COMMAND:
            raise LocalProtocolError(f"AT preamble is over ({self.state.name})")


class AtListener(_AtCore):
    """The phone side of the preamble (answers commands; result codes are verbose)."""

    #: command -> (result text, echo after the command: True/False/None = unchanged)
    REPLIES = {"AT": ("OK", None), "ATZ": ("OK", None), "AT&F": ("OK", None),
               "ATE0": ("OK", False), "ATE1": ("OK", True),
               "AT+GMI": ("omads-gateway\r\n\r\nOK", None),
               "AT+CGMI": ("omads-gateway\r\n\r\nOK", None)}

    def __init__(self, *, echo: bool = False) -> None:
        super().__init__()
        self.echo = echo

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        self._check_open()
        if not data:
            self.state = AtState.FAILED
            self._events.append(AtFailed(reason="eof"))
            return
        self._buf += data
        if self._buf.lstrip(_EOL)[:1] and self._buf.lstrip(_EOL)[0] in _OBEX_FIRST_BYTES:
            self._switch()
            return
        for line in _lines(self._buf):
            self._answer(line)
            if self.state is AtState.OBEX:
                return
        if len(self._buf) > MAX_LINE:
            self._buf.clear()
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


class AtDialer(_AtCore):
    """The PC side: send each command, wait for its expected result within ``timeout``."""

    def __init__(self, *, now: float, timeout: float = 5.0,
                 steps: tuple[tuple[str, str], ...] = (("AT+CPROT=0", "CONNECT"),)) -> None:
        super().__init__()
        if not steps:
            raise LocalProtocolError("AtDialer needs at least one step")
        self.timeout = timeout
        self._steps = list(steps)
        self._deadline = now + timeout
        self._out += steps[0][0].encode("ascii") + b"\r"

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        self._check_open()
        if not data:
            self._fail("eof")
            return
        self._buf += data
        self._consume(now, wait_for_lf=True)
        if self.state is AtState.COMMAND and len(self._buf) > MAX_LINE:
            self._fail("reply line too long")

    def _consume(self, now: float | None, *, wait_for_lf: bool) -> None:
        for line in _lines(self._buf, wait_for_lf=wait_for_lf):
            command, expected = self._steps[0]
            upper = line.upper()
            if upper == command.upper():
                continue                       # the modem's echo
            if upper == expected.upper():
                self._steps.pop(0)
                if not self._steps:
                    self._switch()
                    return
                self._out += self._steps[0][0].encode("ascii") + b"\r"
                if now is not None:
                    self._deadline = now + self.timeout
            elif upper in ("ERROR", "NO CARRIER") or upper.startswith("+CME ERROR"):
                self._fail(f"{command} -> {line}")
                return

    def _fail(self, reason: str) -> None:
        self.state = AtState.FAILED
        self._events.append(AtFailed(reason=reason))

    def next_deadline(self) -> float | None:
        return self._deadline if self.state is AtState.COMMAND else None

    def handle_timeout(self, now: float) -> None:
        if self.state is AtState.COMMAND and now >= self._deadline:
            self._consume(now, wait_for_lf=False)      # a final CR without its LF counts now
        if self.state is AtState.COMMAND and now >= self._deadline:
            self._fail(f"no reply to {self._steps[0][0]} within {self.timeout}s")
