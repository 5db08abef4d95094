"""The errors raised by the SyncML codecs, the model and the engines.

Every codec raises exactly one ``...DecodeError`` subclass for bad input; nothing else
(``IndexError``, ``struct.error``, ``KeyError``, lxml's errors) may escape a codec.
Errors say whose fault they are (gateway/errors.py): ``RemoteProtocolError`` (the peer) or
``LocalProtocolError`` (our own bug); both carry ``error_status_hint``.
"""

from __future__ import annotations

from gateway.errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = ["ProtocolError", "RemoteProtocolError", "LocalProtocolError", "DecodeError",
           "WBXMLDecodeError", "XMLDecodeError", "ModelDecodeError", "EncodeError"]


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
