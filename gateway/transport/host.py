"""The one way a sans-I/O core runs on Twisted (DESIGN.md: "the Twisted shell is thin").

Every core of the gateway (the OBEX server and client, the AT preamble, the GSM modem, the
SIP SAN sender) has the same verbs: ``receive_data(data, now)`` (``b""`` is EOF),
``next_event()``, ``send(command, now)`` (returns what ``data_to_send()`` would),
``data_to_send()``, ``next_deadline()`` / ``handle_timeout(now)``. ``CoreHost`` is the loop
around them that each shell needs, written once:

* bytes in: ``receive_data(data)`` feeds the core at ``now = reactor.seconds()``; commands
  go in through ``send(command)``;
* after every call into the core (bytes, a command, a timer) the host writes what the core
  has to send, hands each event to ``on_event``, and re-arms its one timer at the core's
  ``next_deadline()``; the timer calls ``handle_timeout(now)``;
* ``connection_lost()`` gives the core its EOF, hands over the last events and stops.

The reactor is passed in (a ``Clock`` in tests), never the global one. ``on_event`` may
call back into the host: ``send`` a reply, ``switch`` to the next core (OBEX after the AT
preamble), ``stop``. Output made before ``attach(write)`` waits for it. ``DatagramHost``
runs the cores whose output is a list of messages (the SIP sender), writing each one;
``HostedProtocol`` is the Protocol that feeds a host from its transport.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet.protocol import Protocol

from gateway.errors import LocalProtocolError

__all__ = ["CoreHost", "DatagramHost", "HostedProtocol"]


class CoreHost:
    """Runs one stream core (``data_to_send()`` gives bytes) for a Twisted shell."""

    def __init__(self, core: Any, *, reactor: Any, on_event: Callable[[Any], None],
                 write: Callable[[Any], None] | None = None) -> None:
        self.reactor = reactor
        self.on_event = on_event
        self.stopped = False
        self._core = core
        self._write = write
        self._unsent: list[Any] = []      # output made before attach()
        self._lost = False
        self._timer: Any = None
        self._armed_for: float | None = None

    @property
    def core(self) -> Any:
        return self._core

    # -- in -----------------------------------------------------------------------------
    def attach(self, write: Callable[[Any], None]) -> None:
        """Start writing to ``write`` (a transport's): what waited goes out first."""
        self._write = write
        unsent, self._unsent = self._unsent, []
        for chunk in unsent:
            write(chunk)
        self.flush()

    def receive_data(self, data: bytes) -> None:
        """Bytes from the transport (``b""``: EOF; prefer ``connection_lost``)."""
        if self.stopped:
            return
        self._core.receive_data(data, self.reactor.seconds())
        self.flush()

    def send(self, command: Any) -> None:
        """Ask the core to act (a request, a reply); its bytes are written."""
        if self.stopped:
            raise LocalProtocolError(f"cannot send {type(command).__name__}: the host stopped")
        self._put(self._core.send(command, self.reactor.seconds()))
        self.flush()

    def switch(self, core: Any) -> None:
        """Run ``core`` from now on (the old one is dropped)."""
        self._core = core
        self.flush()

    def connection_lost(self) -> None:
        """The transport is gone: EOF to the core, its last events out, then stop."""
        if self.stopped:
            return
        self._lost = True
        self._core.receive_data(b"", self.reactor.seconds())
        self.flush()
        self.stop()

    def stop(self) -> None:
        """Nothing more goes to the core or comes out of it; the timer is cancelled."""
        self.stopped = True
        self._cancel()

    # -- out ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the core's output, hand over its events, re-arm the timer."""
        if self.stopped:
            return
        core = self._core
        self._put(core.data_to_send())
        while not self.stopped and self._core is core:
            event = core.next_event()
            if event is None:
                break
            self.on_event(event)
        if not self.stopped and self._core is core:
            self._put(core.data_to_send())
        self._rearm()

    def _chunks(self, output: Any) -> list[Any]:
        return [output] if output else []

    def _put(self, output: Any) -> None:
        for chunk in self._chunks(output):
            if self._lost:
                return
            if self._write is None:
                self._unsent.append(chunk)
            else:
                self._write(chunk)

    # -- the one timer ------------------------------------------------------------------
    def _rearm(self) -> None:
        deadline = None if self.stopped else self._core.next_deadline()
        if deadline is not None and deadline == self._armed_for and self._timer is not None:
            return
        self._cancel()
        if deadline is not None:
            self._armed_for = deadline
            self._timer = self.reactor.callLater(max(0.0, deadline - self.reactor.seconds()),
                                                 self._fire)

    def _fire(self) -> None:
        self._timer, self._armed_for = None, None
        if self.stopped:
            return
        self._core.handle_timeout(self.reactor.seconds())
        self.flush()

    def _cancel(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer, self._armed_for = None, None


class DatagramHost(CoreHost):
    """Runs a datagram core: ``data_to_send()`` gives a list of messages, each written
    with one ``write(message)`` call (a UDP datagram, or one SIP message on TCP)."""

    def _chunks(self, output: Any) -> list[Any]:
        return list(output)


class HostedProtocol(Protocol):
    """A Protocol whose transport feeds ``self.host`` (set by the subclass before the
    connection is made, or in its ``connectionMade`` before calling this one's)."""

    host: CoreHost

    def connectionMade(self) -> None:
        self.host.attach(self.transport.write)

    def dataReceived(self, data: bytes) -> None:
        self.host.receive_data(data)

    def connectionLost(self, reason: Any = None) -> None:
        self.host.connection_lost()
