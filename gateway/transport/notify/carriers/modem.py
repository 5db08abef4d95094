"""SMS through a GSM modem on a serial port: the Twisted shell of ``notify.modem.Modem``.

The port is opened on first use (``twisted.internet.serialport``); the AT machine runs its
startup, then each notification becomes one or more SMS-SUBMIT PDUs (``AT+CMGS``) carrying
the WSP push to port 2948, concatenated with a fresh 8-bit reference when needed. A modem
that failed (SIM, no answer) is restarted on the next send; a lost port is reopened.
"""

from __future__ import annotations

import itertools
import random
import secrets
from typing import Any, Callable

from twisted.internet.defer import Deferred, FirstError, gatherResults, inlineCallbacks

from gateway.notify.modem import ModemConfig, Phase
from gateway.notify.modem_events import (CommandFailed, CommandTimeout, ModemFailed,
                                         ModemReady, SmsFailed, SmsReceived, SmsSent, Start,
                                         SubmitPdu)
from gateway.notify.sms import wap_push_pdus
from gateway.transport import logs
from gateway.transport.notify.carriers.base import CarrierError, Sent, sms_parts_for
from gateway.transport.notify.modem_link import ModemLink, open_serial
from gateway.notifier.payload import Payload

log = logs.get_logger("gateway.notify.modem")


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
        self.link: ModemLink | None = None
        self._port: Any = None
        self._waiting: dict[int, Deferred[int]] = {}
        self._ids = itertools.count(1)
        self._ref = random.Random(secrets.randbits(32)).randrange(256)

    def sms_parts(self, payload: Payload) -> int:
        return sms_parts_for(payload.push)

    # -- the serial link ------------------------------------------------------------------
    def _ensure_open(self) -> ModemLink:
        link = self.link
        if link is None or link.host.stopped:          # never opened, or the port was lost
            link = ModemLink(self.reactor, self._dispatch, self.config)
            try:
                self._port = self.opener(link, self.settings.device, self.reactor,
                                         self.settings.baudrate)
            except Exception as e:
                self._port = None
                raise CarrierError(f"cannot open modem {self.settings.device}: {e}") from None
            self.link = link
        elif link.modem.phase is Phase.FAILED:
            log.info("restarting modem {device}", device=self.settings.device)
            link.host.send(Start())
        return link

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
        link = self._ensure_open()
        self._ref = (self._ref + 1) % 256
        try:
            pdus = wap_push_pdus(payload.push, address, ref=self._ref,
                                 validity=self.settings.validity, sca=self.settings.sms_center)
        except ValueError as e:
            raise CarrierError(f"cannot encode the SMS: {e}") from None
        waits = []
        for pdu_hex, length in pdus:
            rid = next(self._ids)
            waits.append(self._wait(rid))
            link.host.send(SubmitPdu(request_id=rid, pdu_hex=pdu_hex, length=length))
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
        link, port = self.link, self._port
        self.link = self._port = None
        if link is not None:
            link.host.stop()
        if port is not None:
            port.loseConnection()
