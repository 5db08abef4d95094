"""SMS through a GSM modem on a serial port: the Twisted shell of ``notify.modem.Modem``.

The port is opened on first use (``twisted.internet.serialport``); the AT machine runs its
startup, then each notification becomes one or more SMS-SUBMIT PDUs (``AT+CMGS``) carrying
the WSP push to port 2948, concatenated with a fresh 8-bit reference when needed. A modem
that failed (SIM, no answer) is restarted on the next send; a lost port is reopened.
"""

from __future__ import annotations

import random
import secrets
from typing import Any, Callable

from twisted.internet.defer import Deferred, FirstError, gatherResults, inlineCallbacks
from twisted.internet.protocol import Protocol

from gateway.notify.modem import Modem, ModemConfig, Phase
from gateway.notify.modem_events import (CommandFailed, CommandTimeout, ModemFailed,
                                         ModemReady, SmsFailed, SmsReceived, SmsSent)
from gateway.notify.sms import wap_push_pdus
from gateway.transport import logs
from gateway.transport.notify.carriers.base import CarrierError, Sent, sms_parts_for
from gateway.notifier.payload import Payload

log = logs.get_logger("gateway.notify.modem")


def open_serial(protocol: Protocol, device: str, reactor: Any, baudrate: int) -> Any:
    from twisted.internet.serialport import SerialPort
    return SerialPort(protocol, device, reactor, baudrate=baudrate)


class _ModemProtocol(Protocol):
    def __init__(self, carrier: "ModemCarrier"):
        self.carrier = carrier

    def connectionMade(self) -> None:
        self.carrier._started(self)

    def dataReceived(self, data: bytes) -> None:
        self.carrier._received(self, data)

    def connectionLost(self, reason: Any = None) -> None:
        self.carrier._lost(self)


class ModemCarrier:
    kind = "modem"
    sms = True

    def __init__(self, settings: Any, *, reactor: Any,
                 opener: Callable[..., Any] = open_serial):
        self.settings = settings
        self.reactor = reactor
        self.opener = opener
        self.config = ModemConfig(pin=settings.pin, command_timeout=settings.command_timeout,
                                  prompt_timeout=settings.command_timeout * 2,
                                  submit_timeout=settings.submit_timeout,
                                  recovery_timeout=min(2.0, settings.command_timeout))
        self.modem = Modem(self.config)
        self._protocol: _ModemProtocol | None = None
        self._port: Any = None
        self._timer: Any = None
        self._waiting: dict[int, Deferred[int]] = {}
        self._ref = random.Random(secrets.randbits(32)).randrange(256)

    def sms_parts(self, payload: Payload) -> int:
        return sms_parts_for(payload.push)

    # -- the serial link ------------------------------------------------------------------
    def _ensure_open(self) -> None:
        if self._port is None:
            self.modem = Modem(self.config)
            try:
                self._port = self.opener(_ModemProtocol(self), self.settings.device,
                                         self.reactor, self.settings.baudrate)
            except Exception as e:
                self._port = None
                raise CarrierError(f"cannot open modem {self.settings.device}: {e}") from None
        elif self.modem.phase is Phase.FAILED:
            log.info("restarting modem {device}", device=self.settings.device)
            self.modem.start(self.reactor.seconds())
            self._pump()

    def _started(self, protocol: _ModemProtocol) -> None:
        self._protocol = protocol
        self.modem.start(self.reactor.seconds())
        self._pump()

    def _received(self, protocol: _ModemProtocol, data: bytes) -> None:
        if protocol is self._protocol:
            self.modem.receive_data(data, self.reactor.seconds())
            self._pump()

    def _lost(self, protocol: _ModemProtocol) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        self._port = None
        self.modem.receive_data(b"", self.reactor.seconds())
        self._pump()

    def _pump(self) -> None:
        out = self.modem.data_to_send()
        if out and self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.write(out)
        while (event := self.modem.next_event()) is not None:
            self._dispatch(event)
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        deadline = self.modem.next_deadline()
        if deadline is not None:
            self._timer = self.reactor.callLater(max(0.0, deadline - self.reactor.seconds()),
                                                 self._timeout)

    def _timeout(self) -> None:
        self._timer = None
        self.modem.handle_timeout(self.reactor.seconds())
        self._pump()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, SmsSent):
            d = self._waiting.pop(event.request_id, None)
            if d is not None:
                d.callback(event.mr)
        elif isinstance(event, SmsFailed):
            d = self._waiting.pop(event.request_id, None)
            if d is not None:
                d.errback(CarrierError(f"modem: {event.reason}"))
        elif isinstance(event, ModemReady):
            log.info("modem {device} ready", device=self.settings.device)
        elif isinstance(event, ModemFailed):
            log.warn("modem {device} failed: {reason}", device=self.settings.device,
                     reason=event.reason)
        elif isinstance(event, (CommandTimeout, CommandFailed)):
            log.warn("modem {device}: {event}", device=self.settings.device, event=event)
        elif isinstance(event, SmsReceived):
            log.info("modem {device}: an incoming SMS was ignored", device=self.settings.device)

    # -- sending ----------------------------------------------------------------------------
    def _wait(self, request_id: int) -> Deferred[int]:
        def cancel(d: Deferred[int]) -> None:
            self._waiting.pop(request_id, None)
        d: Deferred[int] = Deferred(cancel)
        self._waiting[request_id] = d
        return d

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        self._ensure_open()
        self._ref = (self._ref + 1) % 256
        try:
            pdus = wap_push_pdus(payload.push, address, ref=self._ref,
                                 validity=self.settings.validity, sca=self.settings.sms_center)
        except ValueError as e:
            raise CarrierError(f"cannot encode the SMS: {e}") from None
        now = self.reactor.seconds()
        waits = []
        for pdu_hex, length in pdus:
            rid = self.modem.send_pdu(pdu_hex, length, now)
            waits.append(self._wait(rid))
        self._pump()
        try:
            refs = yield gatherResults(waits, consumeErrors=True)
        except FirstError as e:
            for d in waits:
                if not d.called:
                    d.cancel()
            raise e.subFailure.value from None
        return Sent(detail=f"{len(pdus)} SMS via modem, message references "
                           + ",".join(map(str, refs)))

    def stop(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        port, self._port = self._port, None
        self._protocol = None
        if port is not None:
            port.loseConnection()
