"""OBEX listeners: TCP (any Twisted endpoint), serial ports, Bluetooth RFCOMM.

Listen strings (``[obex] listen``):

* a Twisted server endpoint: ``tcp:6500:interface=127.0.0.1``, ``tcp6:...``, ``unix:...``,
  ``systemd:...`` (raw OBEX on every accepted connection; a gateway/transport/listen.py
  ``Listener``, so a port that cannot be bound stops the start);
* ``serial:/dev/ttyUSB0[:baudrate=115200]``: a serial port opened through Twisted's
  ``SerialPort`` (pyserial); accepts the AT preamble (``AT+CPROT=0``) or raw OBEX, and
  serves one phone after another on the open port;
* ``bluetooth:channel=N``: an RFCOMM socket (AF_BLUETOOTH) handed to the reactor, with the
  SyncML service record registered with BlueZ. Twisted's ``adoptStreamPort`` refuses
  AF_BLUETOOTH, so the listening socket and each accepted one are wrapped in small
  ``FileDescriptor`` adapters. Where the machine has no Bluetooth the service logs one line
  and the others keep running.

The strings are parsed by gateway/config/obex.py (``parse_listen``, re-exported here).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any, Callable

from twisted.application.service import Service
from twisted.internet import abstract, main
from twisted.python.failure import Failure

from gateway.config.obex import ListenSpec, parse_listen
from gateway.transport.listen import listener
from gateway.transport.logs import get_logger
from gateway.transport.obex.protocol import ObexSyncFactory, ObexSyncProtocol

__all__ = ["ListenSpec", "parse_listen", "SerialListenerService", "RfcommListenerService",
           "RfcommPort", "RfcommTransport", "RfcommAddress", "make_listener",
           "open_rfcomm_socket"]

log = get_logger("gateway.transport.obex")

# -- serial ---------------------------------------------------------------------------------

class SerialListenerService(Service):
    """Keeps a serial port open with one reusable OBEX protocol on it; if the port cannot
    be opened (no cable yet) or goes away, tries again every ``retry`` seconds."""

    def __init__(self, spec: ListenSpec, *, make_protocol: Callable[[], ObexSyncProtocol],
                 reactor: Any, retry: float = 5.0, open_port: Callable[..., Any] | None = None):
        self.spec = spec
        self.make_protocol = make_protocol
        self.reactor = reactor
        self.retry = retry
        self._open_port = open_port
        self.port: Any = None
        self.protocol: ObexSyncProtocol | None = None
        self._retry_call = None
        self._warned = False

    def startService(self) -> None:
        super().startService()
        self._open()

    def _open(self) -> None:
        self._retry_call = None
        if not self.running:
            return
        opener = self._open_port
        if opener is None:
            from twisted.internet.serialport import SerialPort
            opener = SerialPort
        proto = self.make_protocol()
        lost = proto.connectionLost

        def connection_lost(reason: Any = None) -> None:
            lost(reason)
            self.port = None
            if self.running:
                self._schedule()

        proto.connectionLost = connection_lost
        try:
            self.port = opener(proto, self.spec.device, self.reactor,
                               baudrate=self.spec.baudrate)
        except Exception as e:   # serial.SerialException, OSError
            if not self._warned:
                log.warn("serial listener {device} unavailable: {error} (retrying every "
                         "{retry}s)", device=self.spec.device, error=e, retry=self.retry)
                self._warned = True
            self._schedule()
            return
        self._warned = False
        self.protocol = proto
        log.info("OBEX listening on serial port {device} ({baud} baud)",
                 device=self.spec.device, baud=self.spec.baudrate)

    def _schedule(self) -> None:
        if self._retry_call is None:
            self._retry_call = self.reactor.callLater(self.retry, self._open)

    def stopService(self) -> None:
        super().stopService()
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        self._retry_call = None
        port, self.port = self.port, None
        if port is not None:
            port.loseConnection()


# -- Bluetooth RFCOMM -----------------------------------------------------------------------

@dataclass(frozen=True)
class RfcommAddress:
    """A Bluetooth peer or local address: ``host`` is the MAC, ``port`` the channel."""

    host: str
    port: int


def _address(addr: Any) -> RfcommAddress:
    if isinstance(addr, tuple) and len(addr) >= 2:
        return RfcommAddress(str(addr[0]), int(addr[1]))
    return RfcommAddress(str(addr), 0)


def open_rfcomm_socket(channel: int) -> socket.socket:
    """A listening RFCOMM socket on ``channel`` of every local adapter."""
    family = getattr(socket, "AF_BLUETOOTH", None)
    proto = getattr(socket, "BTPROTO_RFCOMM", None)
    if family is None or proto is None:
        raise OSError("this Python has no AF_BLUETOOTH support")
    sock = socket.socket(family, socket.SOCK_STREAM, proto)
    try:
        sock.bind((getattr(socket, "BDADDR_ANY", "00:00:00:00:00:00"), channel))
        sock.listen(5)
    except BaseException:
        sock.close()
        raise
    return sock


class RfcommTransport(abstract.FileDescriptor):
    """A connected stream socket of any family as a Twisted transport."""

    def __init__(self, sock: socket.socket, peer: Any, reactor: Any):
        super().__init__(reactor)
        self.socket = sock
        self.socket.setblocking(False)
        self.peer = _address(peer)
        self.connected = 1
        self.protocol: Any = None

    def fileno(self) -> int:
        return self.socket.fileno() if self.socket is not None else -1

    def getPeer(self) -> RfcommAddress:
        return self.peer

    def getHost(self) -> RfcommAddress:
        try:
            return _address(self.socket.getsockname())
        except OSError:
            return RfcommAddress("?", 0)

    def doRead(self) -> Any:
        try:
            data = self.socket.recv(65536)
        except BlockingIOError:
            return None
        except OSError:
            return main.CONNECTION_LOST
        if not data:
            return main.CONNECTION_DONE
        self.protocol.dataReceived(data)
        return None

    def writeSomeData(self, data: bytes) -> Any:
        try:
            return self.socket.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            return main.CONNECTION_LOST

    def connectionLost(self, reason: Failure) -> None:
        super().connectionLost(reason)
        sock, self.socket = self.socket, None
        if sock is not None:
            sock.close()
        if self.protocol is not None:
            self.protocol.connectionLost(reason)


class RfcommPort(abstract.FileDescriptor):
    """A listening socket in the reactor: each accepted connection gets a protocol."""

    def __init__(self, sock: socket.socket, factory: Any, reactor: Any):
        super().__init__(reactor)
        self.socket = sock
        self.socket.setblocking(False)
        self.factory = factory
        self.connected = 1

    def fileno(self) -> int:
        return self.socket.fileno() if self.socket is not None else -1

    def doRead(self) -> None:
        for _ in range(16):
            try:
                conn, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warn("bluetooth accept failed: {error}", error=e)
                return
            transport = RfcommTransport(conn, addr, self.reactor)
            proto = self.factory.buildProtocol(transport.peer)
            if proto is None:
                conn.close()
                continue
            transport.protocol = proto
            proto.makeConnection(transport)
            transport.startReading()

    def stopListening(self) -> None:
        self.stopReading()
        sock, self.socket = self.socket, None
        if sock is not None:
            sock.close()

    def connectionLost(self, reason: Failure) -> None:
        self.stopListening()


class RfcommListenerService(Service):
    """RFCOMM listener + SDP record; logs ONE line and stays idle when Bluetooth is absent."""

    def __init__(self, spec: ListenSpec, *, factory: Any, reactor: Any, run: Callable[..., Any],
                 open_socket: Callable[[int], socket.socket] = open_rfcomm_socket,
                 registrar: Any = None):
        self.spec = spec
        self.factory = factory
        self.reactor = reactor
        self.run = run
        self.open_socket = open_socket
        self.registrar = registrar
        self.port: RfcommPort | None = None
        self.unavailable: str | None = None

    def startService(self) -> None:
        super().startService()
        try:
            sock = self.open_socket(self.spec.channel)
        except Exception as e:
            self.unavailable = str(e) or type(e).__name__
            log.warn("bluetooth listener {listen} unavailable: {error}", listen=self.spec.text,
                     error=self.unavailable)
            return
        self.port = RfcommPort(sock, self.factory, self.reactor)
        self.port.startReading()
        log.info("OBEX listening on RFCOMM channel {channel}", channel=self.spec.channel)
        if self.spec.sdp:
            if self.registrar is None:
                from gateway.transport.obex.sdp import BluezRegistrar
                self.registrar = BluezRegistrar(self.spec.channel)
            d = self.run(self.registrar.register)
            d.addCallback(lambda _: log.info("SDP record for RFCOMM channel {channel} "
                                             "registered", channel=self.spec.channel))
            d.addErrback(lambda f: log.warn(
                "bluetooth listener {listen}: SDP record not registered: {error}",
                listen=self.spec.text, error=f.getErrorMessage()))

    def stopService(self) -> None:
        super().stopService()
        if self.port is not None:
            self.port.stopListening()
            self.port = None
        if self.registrar is not None and getattr(self.registrar, "connection", None):
            self.registrar.unregister()


def make_listener(spec: ListenSpec, *, name: str, reactor: Any, run: Callable[..., Any],
                  protocol_kwargs: dict[str, Any]) -> Service:
    """The service for one listen spec (``protocol_kwargs``: engine, run, config...)."""
    if spec.kind == "serial":
        link = f"serial:{spec.device}"
        svc: Service = SerialListenerService(
            spec, reactor=reactor,
            make_protocol=lambda: ObexSyncProtocol(**protocol_kwargs, link=link,
                                                   at_preamble=True, reusable=True))
    elif spec.kind == "bluetooth":
        factory = ObexSyncFactory(**protocol_kwargs, link=f"rfcomm:{spec.channel}")
        svc = RfcommListenerService(spec, factory=factory, reactor=reactor, run=run)
    else:
        return listener(reactor, spec.text, ObexSyncFactory(**protocol_kwargs, link=spec.text),
                        name=name)
    svc.setName(name)
    return svc
