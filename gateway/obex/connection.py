"""What both OBEX roles share: byte buffers, the event queue and the idle timer.

The verbs are those of every sans-I/O core here (DESIGN.md "one set of verbs"):
``receive_data(data, now)`` (``b""`` is EOF), ``next_event()`` / ``events()``,
``send(event, now)`` and ``data_to_send()``, ``next_deadline()`` / ``handle_timeout(now)``.
``now`` is always the caller's clock (never optional); ``receive_data`` and ``send``
restart the idle window at it.

``send(event, now)`` queues the event's bytes and returns *everything* queued so far (the
same as calling ``data_to_send()`` right after), so a host may use either and never writes
a byte twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from enum import Enum

from .errors import LocalProtocolError, ObexDecodeError
from .events import ConnectionClosed, Event, GetResponse, Response
from .packets import Packet, PacketFramer

__all__ = ["ObexConnection"]


class ObexConnection:
    """Base of ``ObexServer`` and ``ObexClient``; subclasses define the state machine."""

    #: Subclasses: states in which we wait for the peer (the idle timer runs).
    _WAITING_FOR_PEER: frozenset[Enum] = frozenset()
    #: Subclasses: states in which stream bytes are not parsed yet (we owe an answer).
    _PAUSED: frozenset[Enum] = frozenset()
    _CLOSED: Enum

    def __init__(self, *, max_packet_length: int, idle_timeout: float | None, now: float) -> None:
        self._framer = PacketFramer()
        self._events: deque[Event] = deque()
        self._out = bytearray()
        self.idle_timeout = idle_timeout
        self._last_activity = now
        self._receive_limit = max_packet_length
        self._reply_owed = False   # closed while the caller owed the peer a reply
        self.state: Enum

    # -- bytes in -------------------------------------------------------------------------
    def receive_data(self, data: bytes, now: float) -> None:
        """Feed bytes from the transport; ``b""`` means the peer closed it."""
        if self.state is self._CLOSED:
            return
        self._last_activity = now
        if not data:
            reason = "eof inside a packet" if self._framer.buffered else "eof"
            self._close(reason)
            return
        self._framer.feed(data)
        self._process()

    def _process(self) -> None:
        while self.state is not self._CLOSED and self.state not in self._PAUSED:
            try:
                frame = self._framer.next_frame(self._receive_limit)
            except ObexDecodeError as exc:
                self._fatal(exc)
                return
            if frame is None:
                return
            self._handle_frame(frame)
        if self.state in self._PAUSED and self._framer.buffered > 2 * self._receive_limit:
            self._fatal(ObexDecodeError("peer keeps sending while a reply is pending",
                                        offset=self._framer.offset))

    def _handle_frame(self, frame: bytes) -> None:
        raise NotImplementedError

    def _fatal(self, exc: ObexDecodeError) -> None:
        """A stream error that cannot be recovered from: close."""
        self._close(exc.reason, error=exc)

    def _close(self, reason: str, *, code: int | None = None,
               error: ObexDecodeError | None = None) -> None:
        self._reply_owed = self.state in self._PAUSED
        self.state = self._CLOSED
        self._events.append(ConnectionClosed(reason=reason, code=code, error=error))

    # -- events out -----------------------------------------------------------------------
    def next_event(self) -> Event | None:
        """The next event, or None when more data is needed."""
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[Event]:
        """Drain the pending events."""
        while self._events:
            yield self._events.popleft()

    # -- bytes out ------------------------------------------------------------------------
    def _write(self, packet: Packet) -> None:
        self._out += packet.encode()

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def send(self, event: Event, now: float) -> bytes:
        """Act on ``event``; returns all bytes queued so far (see the module docstring)."""
        if self.state is self._CLOSED:
            if self._reply_owed and isinstance(event, (Response, GetResponse)):
                # The reply to a request the peer made before the link closed (the close
                # may sit behind the request in the event queue): nothing left to answer.
                self._reply_owed = False
                return b""
            raise LocalProtocolError(f"cannot send {type(event).__name__}: connection closed")
        self._last_activity = now
        self._send(event)
        self._process()
        return self.data_to_send()

    def _send(self, event: Event) -> None:
        raise NotImplementedError

    # -- timers ---------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` should be called next, or None."""
        if self.idle_timeout is None or self.state not in self._WAITING_FOR_PEER:
            return None
        return self._last_activity + self.idle_timeout

    def handle_timeout(self, now: float) -> None:
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self._close("idle timeout")
