"""Events and settings of the AT modem machine (``gateway.notify.modem``)."""

from __future__ import annotations

from dataclasses import dataclass


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
