"""A GSM modem on a serial port: the I/O-free modem machine (``notify/modem.py``) hosted on
the port by the one core host. Both sides use it: the gateway's SMS carrier
(``carriers/modem.py``) submits PDUs through it, ``omads-sync listen`` receives SMS with it
(``open_modem``: every SMS-DELIVER PDU goes to ``on_sms``)."""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet.protocol import Protocol

from gateway.notify.modem import Modem
from gateway.notify.modem_events import ModemConfig, ModemFailed, SmsReceived, Start
from gateway.transport.host import CoreHost, HostedProtocol


class ModemLink(HostedProtocol):
    """The modem machine on one serial connection; its events go to ``on_event``. The
    startup sequence runs when the port is open; commands sent before (``host.send``)
    wait in the machine. When the port is lost, ``host.stopped`` is true."""

    def __init__(self, reactor: Any, on_event: Callable[[Any], None],
                 config: ModemConfig | None = None):
        self.modem = Modem(config or ModemConfig())
        self.host = CoreHost(self.modem, reactor=reactor, on_event=on_event)

    def connectionMade(self) -> None:
        super().connectionMade()
        self.host.send(Start())


def open_serial(protocol: Protocol, device: str, reactor: Any, baudrate: int = 115200) -> Any:
    from twisted.internet.serialport import SerialPort
    return SerialPort(protocol, device, reactor, baudrate=baudrate)


def open_modem(reactor: Any, device: str, on_sms: Callable[[bytes], None],
               log: Callable[[str], None]) -> Any:
    """Receive SMS from the modem on ``device``; returns the port (``loseConnection``)."""
    def on_event(event: Any) -> None:
        if isinstance(event, SmsReceived):
            on_sms(event.pdu)
        elif isinstance(event, ModemFailed):
            log(f"modem: {event}")
    port = open_serial(ModemLink(reactor, on_event), device, reactor)
    log(f"GSM modem on {device}")
    return port
