"""An AT-command GSM modem driver without I/O (3GPP TS 27.007 / 27.005, PDU mode).

Verbs (those of every core): ``send(Start(), now)``, ``send(SubmitPdu(request_id=...,
pdu_hex=..., length=...), now)`` (``send`` returns the bytes queued, as ``data_to_send()``),
``receive_data(data, now)`` (``b""`` is EOF), ``next_event()`` / ``events()``,
``data_to_send()``, ``next_deadline()``, ``handle_timeout(now)``. Lines are read by the one
AT line reader, :mod:`gateway.at`. One command is in flight at a time; the rest queue.
Startup: ``AT``, ``ATE0``, ``AT+CPIN?`` (``AT+CPIN="<pin>"`` if asked and configured),
``AT+CMGF=0`` and optionally ``AT+CNMI``. ``AT+CMGS=<n>`` waits for the ``> `` prompt (no line
end follows it), then sends the PDU and Ctrl-Z. A timed-out command sends ESC, which
abandons a pending prompt, and the machine then waits briefly for a stray final result.
``+CMTI`` indications are read with ``AT+CMGR`` and deleted with ``AT+CMGD``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum, auto

from gateway.at import FinalResult, LineBuffer, final_result
from gateway.notify.errors import SMSDecodeError
from gateway.notify.modem_events import (CommandFailed, CommandTimeout, Event, ModemConfig,
                                         ModemFailed, ModemReady, SmsFailed, SmsReceived,
                                         SmsSent, Start, SubmitPdu)
from gateway.notify.sms import decode_hex
from gateway.errors import LocalProtocolError

__all__ = ["CommandFailed", "CommandTimeout", "Event", "Modem", "ModemConfig", "ModemFailed",
           "ModemReady", "SmsFailed", "SmsReceived", "SmsSent", "Start", "SubmitPdu", "Phase",
           "Link"]

CTRL_Z = b"\x1a"
ESC = b"\x1b"


# -- the state tables ---------------------------------------------------------------------------

class Phase(Enum):
    NEW = auto()
    STARTING = auto()
    READY = auto()
    FAILED = auto()


class Link(Enum):
    IDLE = auto()          # no command in flight
    WAIT_FINAL = auto()    # command sent, waiting for OK/ERROR
    WAIT_PROMPT = auto()   # AT+CMGS sent, waiting for "> "
    WAIT_SUBMIT = auto()   # PDU sent, waiting for +CMGS / OK
    RECOVERING = auto()    # after a timeout: swallow one stray final result


class Input(Enum):
    COMMAND = auto()
    SUBMIT = auto()
    PROMPT = auto()
    FINAL = auto()
    TIMEOUT = auto()
    START = auto()
    STARTED = auto()
    FAIL = auto()
    RESET = auto()


LINK_TRANSITIONS: dict[tuple[Link, Input], Link] = {
    (Link.IDLE, Input.COMMAND): Link.WAIT_FINAL,
    (Link.IDLE, Input.SUBMIT): Link.WAIT_PROMPT,
    (Link.WAIT_PROMPT, Input.PROMPT): Link.WAIT_SUBMIT,
    (Link.WAIT_PROMPT, Input.FINAL): Link.IDLE,        # ERROR instead of the prompt
    (Link.WAIT_FINAL, Input.FINAL): Link.IDLE,
    (Link.WAIT_SUBMIT, Input.FINAL): Link.IDLE,
    (Link.WAIT_FINAL, Input.TIMEOUT): Link.RECOVERING,
    (Link.WAIT_PROMPT, Input.TIMEOUT): Link.RECOVERING,
    (Link.WAIT_SUBMIT, Input.TIMEOUT): Link.RECOVERING,
    (Link.RECOVERING, Input.FINAL): Link.IDLE,
    (Link.RECOVERING, Input.TIMEOUT): Link.IDLE,
    **{(link, Input.RESET): Link.IDLE for link in Link},   # the connection was lost
}

PHASE_TRANSITIONS: dict[tuple[Phase, Input], Phase] = {
    (Phase.NEW, Input.START): Phase.STARTING,
    (Phase.READY, Input.START): Phase.STARTING,
    (Phase.FAILED, Input.START): Phase.STARTING,
    (Phase.STARTING, Input.STARTED): Phase.READY,
    (Phase.STARTING, Input.FAIL): Phase.FAILED,
    (Phase.READY, Input.FAIL): Phase.FAILED,
    (Phase.NEW, Input.FAIL): Phase.FAILED,
    (Phase.FAILED, Input.FAIL): Phase.FAILED,
}


class Kind(Enum):
    STARTUP = auto()
    PIN_QUERY = auto()
    PIN = auto()
    OPTIONAL = auto()     # startup step whose ERROR is tolerated (AT+CNMI)
    SUBMIT = auto()
    READ = auto()
    DELETE = auto()


@dataclass(kw_only=True, slots=True)
class _Command:
    kind: Kind
    line: str
    timeout: float
    pdu: str = ""
    request_id: int = 0
    index: int = 0
    info: list[str] = field(default_factory=list)
    read_pdu: bytes | None = None

    @property
    def shown(self) -> str:
        """The command as events and logs show it (never the PIN)."""
        return 'AT+CPIN="****"' if self.kind is Kind.PIN else self.line


STARTUP_KINDS = frozenset({Kind.STARTUP, Kind.PIN_QUERY, Kind.PIN, Kind.OPTIONAL})
# Unsolicited result codes that carry nothing for us (TS 27.007 §5-§8).
IGNORED_URCS = ("RING", "+CRING", "NO CARRIER", "+CLIP:", "+CREG:", "+CGREG:", "+CDSI:",
                "+CIEV:", "+CUSD:", "+CBM:", "+CDS:", "^", "*")
_CMTI = re.compile(r'^\+CMTI:\s*"?([^",]*)"?\s*,\s*(\d+)')
_CMGS = re.compile(r"^\+CMGS:\s*(\d+)")


class Modem:
    """The modem state machine; see the module docstring for the verbs."""

    def __init__(self, config: ModemConfig | None = None):
        self.config = config or ModemConfig()
        self.phase = Phase.NEW
        self.link = Link.IDLE
        self._queue: deque[_Command] = deque()
        self._current: _Command | None = None
        self._deadline: float | None = None
        self._lines = LineBuffer()
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._cmt_pending = False
        self.max_line = 1024

    # -- public verbs -----------------------------------------------------------------------

    def send(self, command: Start | SubmitPdu, now: float) -> bytes:
        """Act on a command; returns all bytes queued so far (as ``data_to_send()``)."""
        if isinstance(command, Start):
            self._start(now)
        elif isinstance(command, SubmitPdu):
            self._submit(command, now)
        else:
            raise LocalProtocolError(f"the modem cannot send {type(command).__name__}")
        return self.data_to_send()

    def _start(self, now: float) -> None:
        self._phase(Input.START)
        c = self.config
        steps = [_Command(kind=Kind.STARTUP, line="AT", timeout=c.command_timeout),
                 _Command(kind=Kind.STARTUP, line="ATE0", timeout=c.command_timeout),
                 _Command(kind=Kind.PIN_QUERY, line="AT+CPIN?", timeout=c.command_timeout),
                 _Command(kind=Kind.STARTUP, line="AT+CMGF=0", timeout=c.command_timeout)]
        if c.cnmi:
            steps.append(_Command(kind=Kind.OPTIONAL, line=c.cnmi, timeout=c.command_timeout))
        self._queue = deque([q for q in self._queue if q.kind not in STARTUP_KINDS])
        self._queue.extendleft(reversed(steps))
        self._pump(now)

    def _submit(self, command: SubmitPdu, now: float) -> None:
        rid = command.request_id
        current = [] if self._current is None else [self._current]
        if any(q.kind is Kind.SUBMIT and q.request_id == rid for q in [*current, *self._queue]):
            raise LocalProtocolError(f"request id {rid} is already pending")
        if self.phase is Phase.FAILED:
            self._events.append(SmsFailed(request_id=rid, reason="modem not ready"))
            return
        self._queue.append(_Command(kind=Kind.SUBMIT, line=f"AT+CMGS={command.length}",
                                    timeout=self.config.prompt_timeout,
                                    pdu=command.pdu_hex.upper(), request_id=rid))
        self._pump(now)

    def receive_data(self, data: bytes, now: float) -> None:
        if not data:
            self._lost("modem connection closed")
            return
        self._lines.feed(data)
        while self._step(now):
            pass
        if len(self._lines) > self.max_line:
            self._lines.discard(keep=self.max_line)      # a runaway line: keep only its tail

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[Event]:
        while self._events:
            yield self._events.popleft()

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def next_deadline(self) -> float | None:
        return self._deadline

    def handle_timeout(self, now: float) -> None:
        if self._deadline is None or now < self._deadline:
            return
        self._deadline = None
        if self.link is Link.RECOVERING:
            self._link(Input.TIMEOUT)
            self._pump(now)
            return
        cmd = self._current
        self._current = None
        was = self.link
        self._link(Input.TIMEOUT)
        if cmd is not None:
            self._events.append(CommandTimeout(command=cmd.shown))
            if was in (Link.WAIT_PROMPT, Link.WAIT_SUBMIT):
                self._out += ESC
            if cmd.kind is Kind.SUBMIT:
                self._events.append(SmsFailed(request_id=cmd.request_id, reason="timeout"))
            elif cmd.kind in STARTUP_KINDS - {Kind.OPTIONAL}:
                self._fail(f"{cmd.shown} timed out")
        self._deadline = now + self.config.recovery_timeout

    # -- transitions ----------------------------------------------------------------------------

    def _link(self, inp: Input) -> None:
        try:
            self.link = LINK_TRANSITIONS[(self.link, inp)]
        except KeyError:
            raise LocalProtocolError(f"modem link: no transition for {inp.name} "
                                     f"in {self.link.name}") from None

    def _phase(self, inp: Input) -> None:
        try:
            self.phase = PHASE_TRANSITIONS[(self.phase, inp)]
        except KeyError:
            raise LocalProtocolError(f"modem: no transition for {inp.name} "
                                     f"in {self.phase.name}") from None

    def _fail(self, reason: str) -> None:
        self._phase(Input.FAIL)
        self._events.append(ModemFailed(reason=reason))
        for cmd in self._queue:
            if cmd.kind is Kind.SUBMIT:
                self._events.append(SmsFailed(request_id=cmd.request_id, reason=reason))
        self._queue.clear()

    def _lost(self, reason: str) -> None:
        cmd = self._current
        if cmd is not None and cmd.kind is Kind.SUBMIT:
            self._events.append(SmsFailed(request_id=cmd.request_id, reason=reason))
        self._current = None
        self._deadline = None
        self._lines.discard()
        self._cmt_pending = False
        self._link(Input.RESET)
        self._fail(reason)

    def _pump(self, now: float) -> None:
        if self.link is not Link.IDLE or not self._queue:
            return
        head = self._queue[0]
        if head.kind not in STARTUP_KINDS and self.phase is not Phase.READY:
            return
        cmd = self._current = self._queue.popleft()
        cmd.info.clear()
        self._link(Input.SUBMIT if cmd.kind is Kind.SUBMIT else Input.COMMAND)
        self._out += cmd.line.encode("ascii") + b"\r"
        self._deadline = now + cmd.timeout

    # -- input parsing --------------------------------------------------------------------------

    def _step(self, now: float) -> bool:
        """Consume one prompt or line from the buffer; False when more data is needed."""
        if self.link is Link.WAIT_PROMPT and self._lines.take_prompt():
            self._on_prompt(now)
            return True
        line = self._lines.next_line()
        if line is None:
            return False
        self._on_line(line, now)
        return True

    def _on_prompt(self, now: float) -> None:
        cmd = self._current
        if cmd is None:
            return
        self._link(Input.PROMPT)
        self._out += cmd.pdu.encode("ascii") + CTRL_Z
        cmd.timeout = self.config.submit_timeout
        self._deadline = now + self.config.submit_timeout

    def _on_line(self, line: str, now: float) -> None:
        line = line.lstrip("> ")        # a late or duplicated prompt glued to a line
        if not line:
            return
        cmd = self._current
        if self._cmt_pending:
            self._cmt_pending = False
            try:
                self._events.append(SmsReceived(pdu=decode_hex(line)))
                return
            except SMSDecodeError:
                pass                                  # not the PDU after all: go on
        if cmd is not None and cmd.kind is Kind.READ and cmd.info and \
                cmd.info[-1].upper().startswith("+CMGR:") and cmd.read_pdu is None:
            try:
                cmd.read_pdu = decode_hex(line)
                return
            except SMSDecodeError:
                pass
        upper = line.upper()
        if upper.startswith("AT") or (cmd is not None and cmd.pdu and
                                      line.strip("> \x1a").upper() == cmd.pdu):
            return                                    # echo, even after ATE0
        m = _CMTI.match(line)
        if m:
            self._queue.append(_Command(kind=Kind.READ, line=f"AT+CMGR={m.group(2)}",
                                        timeout=self.config.command_timeout,
                                        index=int(m.group(2))))
            self._pump(now)
            return
        if upper.startswith("+CMT:"):
            self._cmt_pending = True
            return
        if upper.startswith(IGNORED_URCS):
            return
        final = final_result(line)
        if final is None:
            if cmd is not None:
                cmd.info.append(line)
            return
        self._deadline = None
        if self.link is Link.RECOVERING:
            self._link(Input.FINAL)
        elif cmd is not None:
            self._current = None
            self._link(Input.FINAL)
            self._finish(cmd, None if final.ok else final)
        self._pump(now)

    # -- per-command results --------------------------------------------------------------------

    def _finish(self, cmd: _Command, error: FinalResult | None) -> None:
        if cmd.kind is Kind.SUBMIT:
            self._finish_submit(cmd, error)
        elif cmd.kind in STARTUP_KINDS:
            self._finish_startup(cmd, None if error is None else error.line)
        elif error is not None:
            self._events.append(CommandFailed(command=cmd.line, error=error.line))
        elif cmd.kind is Kind.READ:
            if cmd.read_pdu is not None:
                self._events.append(SmsReceived(pdu=cmd.read_pdu, index=cmd.index))
                self._queue.append(_Command(kind=Kind.DELETE, line=f"AT+CMGD={cmd.index}",
                                            timeout=self.config.command_timeout))

    def _finish_submit(self, cmd: _Command, error: FinalResult | None) -> None:
        if error is None:
            mr = next((int(m.group(1)) for m in map(_CMGS.match, cmd.info) if m), -1)
            self._events.append(SmsSent(request_id=cmd.request_id, mr=mr))
            return
        self._events.append(SmsFailed(request_id=cmd.request_id, reason=error.line,
                                      cms_error=error.code))

    def _finish_startup(self, cmd: _Command, error: str | None) -> None:
        if self.phase is not Phase.STARTING:
            return
        if error is not None and cmd.kind is not Kind.OPTIONAL:
            self._fail(f"{cmd.shown}: {error}")
            return
        if cmd.kind is Kind.PIN_QUERY:
            state = next((i.split(":", 1)[1].strip().upper() for i in cmd.info
                          if i.upper().startswith("+CPIN:")), "")
            if state == "SIM PIN" and self.config.pin:
                self._queue.appendleft(_Command(kind=Kind.PIN, timeout=self.config.command_timeout,
                                                line=f'AT+CPIN="{self.config.pin}"'))
            elif state != "READY":
                self._fail(f"SIM not ready: {state or 'no +CPIN answer'}"
                           + (" (no PIN configured)" if state == "SIM PIN" else ""))
                return
        if not any(q.kind in STARTUP_KINDS for q in self._queue):
            self._phase(Input.STARTED)
            self._events.append(ModemReady())
