"""OBEX numbers as data: opcodes, header ids, response codes, SyncML targets and types.

Source: omads-protocol.md §5.2 (OpenOBEX ``include/openobex/obex_const.h``,
``lib/obex_header.h``) and §5.1 (SyncML OBEX binding as used by SyncEvolution/Buteo).
"""

from __future__ import annotations

from enum import IntEnum

#: OBEX protocol version 1.0 as sent in Connect (§5.2 packet format).
OBEX_VERSION = 0x10
#: Bit 7 of a request opcode marks the last packet of a request (§5.2).
FINAL_BIT = 0x80
#: Smallest and largest maximum packet length (OpenOBEX min MTU 255, max 65535; §5.2).
MIN_PACKET_LENGTH = 255
MAX_PACKET_LENGTH = 0xFFFF
#: Packet prefix: opcode/response (1) + length (2).
PACKET_PREFIX = 3
#: Extra fields of Connect and its response: version, flags, max packet length (2).
CONNECT_FIELDS = 4
#: Extra fields of SetPath: flags, constants.
SETPATH_FIELDS = 2


class Opcode(IntEnum):
    """Request opcodes without the final bit (§5.2)."""

    CONNECT = 0x00
    DISCONNECT = 0x01
    PUT = 0x02
    GET = 0x03
    SETPATH = 0x05
    ACTION = 0x06
    SESSION = 0x07
    ABORT = 0x7F


#: Opcodes whose packets always carry the final bit (§5.2: Connect "always final").
ALWAYS_FINAL = frozenset({Opcode.CONNECT, Opcode.DISCONNECT, Opcode.SETPATH,
                          Opcode.ACTION, Opcode.SESSION, Opcode.ABORT})


class HeaderEncoding(IntEnum):
    """Upper two bits of a header id (§5.2)."""

    UNICODE = 0x00   # NUL-terminated UTF-16BE text, 2-byte length incl. the 3-byte prefix
    BYTES = 0x40     # byte sequence, 2-byte length incl. the 3-byte prefix
    BYTE1 = 0x80     # one byte
    BYTE4 = 0xC0     # four bytes, big-endian


ENCODING_MASK = 0xC0


class HeaderId(IntEnum):
    """Header identifiers (full HI, encoding bits included; §5.2)."""

    COUNT = 0xC0
    NAME = 0x01
    TYPE = 0x42
    LENGTH = 0xC3
    TIME = 0x44
    DESCRIPTION = 0x05
    TARGET = 0x46
    HTTP = 0x47
    BODY = 0x48
    END_OF_BODY = 0x49
    WHO = 0x4A
    CONNECTION_ID = 0xCB
    APP_PARAMETERS = 0x4C
    AUTH_CHALLENGE = 0x4D
    AUTH_RESPONSE = 0x4E
    OBJECT_CLASS = 0x51


class ResponseCode(IntEnum):
    """Response codes as they appear on the wire, final bit included (§5.2)."""

    CONTINUE = 0x90
    SUCCESS = 0xA0
    CREATED = 0xA1
    ACCEPTED = 0xA2
    BAD_REQUEST = 0xC0
    UNAUTHORIZED = 0xC1
    FORBIDDEN = 0xC3
    NOT_FOUND = 0xC4
    METHOD_NOT_ALLOWED = 0xC5
    NOT_ACCEPTABLE = 0xC6
    REQUEST_TIME_OUT = 0xC8
    LENGTH_REQUIRED = 0xCB
    REQ_ENTITY_TOO_LARGE = 0xCD
    UNSUPPORTED_MEDIA_TYPE = 0xCF
    INTERNAL_SERVER_ERROR = 0xD0
    NOT_IMPLEMENTED = 0xD1
    SERVICE_UNAVAILABLE = 0xD3
    DATABASE_FULL = 0xE0
    DATABASE_LOCKED = 0xE1

    @property
    def ok(self) -> bool:
        """Continue and the 2xx-class codes (0x90..0xAF)."""
        return 0x90 <= self < 0xB0


def response_name(code: int) -> str:
    """``"NOT_FOUND (0xC4)"`` for a known code, ``"0x.."`` otherwise."""
    try:
        return f"{ResponseCode(code).name} (0x{code:02X})"
    except ValueError:
        return f"0x{code:02X}"


# SyncML OBEX binding (§5.1).
TARGET_SYNCML_SYNC = b"SYNCML-SYNC"
TARGET_SYNCML_DM = b"SYNCML-DM"
TYPE_SYNCML_WBXML = "application/vnd.syncml+wbxml"
TYPE_SYNCML_XML = "application/vnd.syncml+xml"
TYPE_SYNCML_SAN = "application/vnd.syncml.ds.notification"
TYPE_SYNCML_DM_WBXML = "application/vnd.syncml.dm+wbxml"
#: Types the SyncML binding accepts in a PUT (§5.1 "Type header").
SYNCML_TYPES = frozenset({TYPE_SYNCML_WBXML, TYPE_SYNCML_XML, TYPE_SYNCML_SAN})
