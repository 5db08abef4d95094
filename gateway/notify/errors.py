"""The decode errors of the notification codecs: one per codec, all ``RemoteProtocolError``.

Each carries ``offset`` (a byte offset into the input, when one applies) through
``gateway.syncml.errors.DecodeError``; nothing else escapes a notify decoder.
"""

from __future__ import annotations

from gateway.syncml.errors import DecodeError


class SANDecodeError(DecodeError):
    """A malformed DS 1.2 Server Alerted Notification (package 0)."""


class WSPDecodeError(DecodeError):
    """A malformed WSP connectionless push PDU."""


class SMSDecodeError(DecodeError):
    """A malformed SMS TPDU, user data header or modem PDU line."""


class PAPDecodeError(DecodeError):
    """A malformed or unsafe PAP response document."""


class SIPDecodeError(DecodeError):
    """A malformed SIP message or authentication challenge."""


class DLRDecodeError(DecodeError):
    """A malformed delivery-report callback (bad or missing query parameters)."""
