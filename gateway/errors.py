"""The error bases every core shares: whose fault a protocol error is, and the status that
answers it best.

``RemoteProtocolError`` is the peer's fault (it becomes a SyncML Status, an HTTP 4xx, an
OBEX error response or a clean close); ``LocalProtocolError`` is ours (a bug: misuse of an
API, or output we could not produce). Both carry ``error_status_hint``, the SyncML/HTTP
status that describes them. Each codec builds its one ``...DecodeError`` on
``RemoteProtocolError`` (gateway/syncml/errors.py, obex/errors.py, notify/errors.py).
"""

from __future__ import annotations

__all__ = ["ProtocolError", "RemoteProtocolError", "LocalProtocolError"]


class ProtocolError(Exception):
    """Base of the protocol errors. ``error_status_hint`` is the SyncML/HTTP status that
    best describes it (400 bad request, 413 too large, 415 unsupported media type...)."""

    error_status_hint = 400

    def __init__(self, msg: str = "", *, error_status_hint: int | None = None):
        super().__init__(msg)
        if error_status_hint is not None:
            self.error_status_hint = error_status_hint


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol; becomes a Status, an HTTP 4xx or an OBEX error."""


class LocalProtocolError(ProtocolError):
    """We misused the API or produced something invalid: a bug of ours."""

    error_status_hint = 500
