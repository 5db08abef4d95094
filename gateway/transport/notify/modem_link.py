"""SMS from a GSM modem on a serial port: the I/O-free modem machine (notify/modem.py) in
a Twisted protocol; every received SMS-DELIVER PDU goes to ``on_sms``."""

from __future__ import annotations

from twisted.internet.protocol import Protocol

from gateway.notify.modem import Modem
from gateway.notify.modem_events import ModemConfig, ModemFailed, SmsReceived


class ModemProtocol(Protocol):
    def __init__(self, reactor, on_sms, log, config: ModemConfig | None = None):
        self.reactor, self.on_sms, self.log = reactor, on_sms, log
        self.modem = Modem(config or ModemConfig())
        self._timer = None

    def connectionMade(self) -> None:
        self.modem.start(self.reactor.seconds())
        self._flush()

    def dataReceived(self, data: bytes) -> None:
        self.modem.receive_data(data, self.reactor.seconds())
        self._flush()

    def connectionLost(self, reason=None) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _flush(self) -> None:
        out = self.modem.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)
        while (event := self.modem.next_event()) is not None:
            if isinstance(event, SmsReceived):
                self.on_sms(event.pdu)
            elif isinstance(event, ModemFailed):
                self.log(f"modem: {event}")
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        deadline = self.modem.next_deadline()
        self._timer = None if deadline is None else self.reactor.callLater(
            max(0.0, deadline - self.reactor.seconds()), self._timeout)

    def _timeout(self) -> None:
        self._timer = None
        self.modem.handle_timeout(self.reactor.seconds())
        self._flush()


def open_modem(reactor, device: str, on_sms, log):
    from twisted.internet.serialport import SerialPort
    proto = ModemProtocol(reactor, on_sms, log)
    port = SerialPort(proto, device, reactor, baudrate=115200)
    log(f"GSM modem on {device}")
    return port
