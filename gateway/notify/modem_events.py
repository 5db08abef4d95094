"""Commands, events and settings of the AT modem machine (``gateway.notify.modem``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


# -- commands: what the caller asks for, through ``Modem.send(command, now)`` ---------------

@dataclass(frozen=True, kw_only=True, slots=True)
class Start:
    """(Re)run the startup sequence; queued submissions wait for it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitPdu:
    """One SMS-SUBMIT: the hex PDU (SMSC prefix + TPDU) and its TPDU length. Its
    ``SmsSent``/``SmsFailed`` carry ``request_id``, which the caller chooses (unique among
    the submissions not settled yet)."""

    request_id: int
    pdu_hex: str
    length: int

    def __post_init__(self) -> None:
        if not 0 < self.length <= 176 or not _HEX.fullmatch(self.pdu_hex):
            raise ValueError("SubmitPdu needs a hex PDU and its TPDU length")


Command = Start | SubmitPdu


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ModemReady:
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ModemFailed:
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsSent:
    request_id: int
    mr: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsFailed:
    request_id: int
    reason: str
    cms_error: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsReceived:
    pdu: bytes                    # SMSC prefix + TPDU, for sms.decode_deliver
    index: int | None = None      # storage index (None for a routed +CMT)


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandTimeout:
    command: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandFailed:
    command: str
    error: str


Event = ModemReady | ModemFailed | SmsSent | SmsFailed | SmsReceived | CommandTimeout | \
    CommandFailed


@dataclass(frozen=True, kw_only=True, slots=True)
class ModemConfig:
    pin: str | None = None
    cnmi: str | None = "AT+CNMI=2,1,0,0,0"    # store MT SMS, indicate with +CMTI
    command_timeout: float = 5.0
    prompt_timeout: float = 10.0
    submit_timeout: float = 60.0
    recovery_timeout: float = 2.0
