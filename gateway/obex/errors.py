"""The one error type of the OBEX codec and state machines.

Peer input that is not valid OBEX raises :class:`ObexDecodeError` inside the codec
(``headers.py``, ``packets.py``); the connection objects turn it into an OBEX error
response and/or a ``ConnectionClosed`` event. Misuse of the API by our own code raises
``gateway.syncml.errors.LocalProtocolError``.
"""

from __future__ import annotations

from gateway.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["ObexDecodeError", "LocalProtocolError", "RemoteProtocolError"]


class ObexDecodeError(RemoteProtocolError, ValueError):
    """Malformed or over-limit OBEX input. ``offset`` is the byte offset in the packet
    (or the stream), ``response`` the OBEX response code that answers it best."""

    def __init__(self, reason: str, *, offset: int | None = None, response: int = 0xC0):
        self.reason = reason
        self.offset = offset
        self.response = response
        where = f" (at byte {offset})" if offset is not None else ""
        super().__init__(reason + where, error_status_hint=413 if response == 0xCD else 400)
