"""The errors raised by the SyncML codecs, the model and the engines.

Every codec raises exactly one ``...DecodeError`` subclass for bad input; nothing else
(``IndexError``, ``struct.error``, ``KeyError``, lxml's errors) may escape a codec.
Errors say whose fault they are: ``RemoteProtocolError`` (the peer) or
``LocalProtocolError`` (our own bug); both carry ``error_status_hint``.
"""

from __future__ import annotations


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


class DecodeError(RemoteProtocolError, ValueError):
    """Bad input from a peer. ``offset`` is a byte offset, ``path`` an element path."""

    def __init__(self, reason: str, *, offset: int | None = None, path: str | None = None,
                 error_status_hint: int | None = None):
        self.reason = reason
        self.offset = offset
        self.path = path
        where = []
        if offset is not None:
            where.append(f"at byte {offset}")
        if path:
            where.append(f"in {path}")
        super().__init__(reason + (" (" + ", ".join(where) + ")" if where else ""),
                         error_status_hint=error_status_hint)


class WBXMLDecodeError(DecodeError):
    """Malformed or over-limit WBXML."""


class XMLDecodeError(DecodeError):
    """Malformed, unsafe or over-limit XML."""


class ModelDecodeError(DecodeError):
    """A well-formed document that is not a valid SyncML message or DevInf."""


class EncodeError(LocalProtocolError, ValueError):
    """Our own bug: a model or tree that cannot be encoded."""
