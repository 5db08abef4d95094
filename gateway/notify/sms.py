"""SMS TPDUs (3GPP TS 23.040 §9.2): SMS-SUBMIT encoding for AT+CMGS in PDU mode, and
SMS-SUBMIT / SMS-DELIVER parsing (the client side, and tests).

PDU strings for the modem are hex and start with the SMSC address; ``00`` means "use the
SMSC stored in the modem". ``AT+CMGS=<n>`` takes the TPDU length without that prefix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.notify.errors import SMSDecodeError
from gateway.notify.gsm7 import decode_gsm7, unpack_septets
from gateway.notify.udh import UserDataHeader, decode_udh, split_user_data

# TS 23.040 §9.2.3.1 TP-MTI (SMS-DELIVER is 0 towards the MS, SMS-SUBMIT 1 from it).
MTI_DELIVER = 0x00
MTI_SUBMIT = 0x01
# First-octet flags (§9.2.3): reply path, UDH indicator, status report, validity format.
TP_RP = 0x80
TP_UDHI = 0x40
TP_SRR = 0x20            # SUBMIT: status report request; DELIVER: TP-SRI
TP_VPF_RELATIVE = 0x10
TP_VPF_MASK = 0x18
TP_MMS = 0x04            # DELIVER: more messages to send (0 = more)
TP_RD = 0x04             # SUBMIT: reject duplicates
# §9.1.2.5 type of address: TON/NPI.
TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TON_ALPHANUMERIC = 0x50
DCS_8BIT = 0x04          # TS 23.038 §4: general coding group, 8-bit data, no class
VP_ONE_DAY = 0xA7        # §9.2.3.12.1 relative: (167 - 143) * 30 min + 12 h = 24 h


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsSubmit:
    destination: str
    user_data: bytes
    udh: UserDataHeader | None = None
    mr: int = 0
    pid: int = 0
    dcs: int = DCS_8BIT
    validity: int | None = None
    status_report: bool = False
    sca: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsDeliver:
    originator: str
    timestamp: dt.datetime
    user_data: bytes                  # octets (8-bit/UCS2) or septet values (7-bit)
    udh: UserDataHeader | None = None
    pid: int = 0
    dcs: int = 0
    sca: str | None = None
    more_messages: bool = False

    @property
    def encoding(self) -> str:
        return dcs_alphabet(self.dcs)

    def text(self) -> str:
        if self.encoding == "gsm7":
            return decode_gsm7(self.user_data)
        if self.encoding == "ucs2":
            return self.user_data.decode("utf-16-be", errors="replace")
        return self.user_data.decode("latin-1")


def dcs_alphabet(dcs: int) -> str:
    """``"gsm7"``, ``"8bit"`` or ``"ucs2"`` for a TP-DCS (TS 23.038 §4)."""
    group = dcs >> 4
    if group in (0, 1, 2, 3, 4, 5, 6, 7):     # general data coding (compressed ignored)
        return {0: "gsm7", 1: "8bit", 2: "ucs2", 3: "gsm7"}[(dcs >> 2) & 3]
    if group == 0xF:
        return "8bit" if dcs & 0x04 else "gsm7"
    if group == 0xE:
        return "ucs2"
    return "gsm7"


# -- addresses and timestamps ---------------------------------------------------------------


def _semi_octets(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def _digits(raw: bytes, count: int) -> str:
    s = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in raw)[:count]
    return s.replace("A", "*").replace("B", "#").replace("C", "a").replace("D", "b") \
        .replace("E", "c")


def encode_address(number: str) -> bytes:
    """TP-DA: digit count, type of address, semi-octets (``+`` makes it international)."""
    intl = number.startswith("+")
    digits = number[1:] if intl else number
    if not digits or not digits.isdigit() or len(digits) > 20:
        raise ValueError(f"not a phone number: {number!r}")
    return bytes((len(digits), TOA_INTERNATIONAL if intl else TOA_UNKNOWN)) + _semi_octets(digits)


def encode_sca(number: str | None) -> bytes:
    """The SMSC address prefix: ``00`` (modem default) or octet length, TOA, semi-octets."""
    if not number:
        return b"\x00"
    addr = encode_address(number)
    return bytes((len(addr) - 1,)) + addr[1:]


def _read_address(data: bytes, pos: int) -> tuple[str, int]:
    if pos + 2 > len(data):
        raise SMSDecodeError("truncated address", offset=pos)
    count, toa = data[pos], data[pos + 1]
    if count > 20:
        raise SMSDecodeError(f"address of {count} digits", offset=pos)
    size = (count + 1) // 2
    raw = data[pos + 2:pos + 2 + size]
    if len(raw) < size:
        raise SMSDecodeError("truncated address digits", offset=pos + 2)
    if toa & 0x70 == TON_ALPHANUMERIC:
        return decode_gsm7(unpack_septets(raw, count * 4 // 7)), pos + 2 + size
    digits = _digits(raw, count)
    return ("+" + digits if toa & 0x70 == 0x10 else digits), pos + 2 + size


def _read_sca(data: bytes) -> tuple[str | None, int]:
    if not data:
        raise SMSDecodeError("empty PDU", offset=0)
    n = data[0]
    if n == 0:
        return None, 1
    if n > 11 or 1 + n > len(data):
        raise SMSDecodeError(f"SMSC address length {n}", offset=0)
    toa = data[1]
    digits = _digits(data[2:1 + n], 2 * (n - 1)).rstrip("F").rstrip("f")
    return ("+" + digits if toa & 0x70 == 0x10 else digits) or None, 1 + n


def _bcd(b: int) -> int:
    lo, hi = b & 0x0F, b >> 4
    if lo > 9 or hi > 9:
        raise ValueError("not BCD")
    return lo * 10 + hi


def decode_scts(raw: bytes) -> dt.datetime:
    """TS 23.040 §9.2.3.11 service centre time stamp -> aware datetime."""
    if len(raw) != 7:
        raise ValueError("SCTS is 7 octets")
    y, mo, d, h, mi, s = (_bcd(b) for b in raw[:6])
    tz = raw[6]
    quarters = (tz & 0x07) * 10 + (tz >> 4)
    offset = dt.timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
    year = 1900 + y if y >= 90 else 2000 + y      # two-digit years: 1990..2089
    return dt.datetime(year, mo, d, h, mi, s, tzinfo=dt.timezone(offset))


def encode_scts(when: dt.datetime) -> bytes:
    off = when.utcoffset() or dt.timedelta(0)
    q = int(abs(off.total_seconds()) // 900)
    sign = 0x08 if off < dt.timedelta(0) else 0
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second)
    stamp = bytes(((v % 10) << 4 | v // 10) for v in fields)
    return stamp + bytes(((q % 10) << 4 | sign | q // 10,))


# -- SMS-SUBMIT ----------------------------------------------------------------------------------


def encode_submit(msg: SmsSubmit) -> tuple[str, int]:
    """(PDU hex with SMSC prefix, TPDU length for AT+CMGS) of one 8-bit SMS-SUBMIT."""
    if not 0 <= msg.mr <= 255:
        raise ValueError("TP-MR is one octet")
    udh = msg.udh.encode() if msg.udh is not None and msg.udh.elements else b""
    ud = udh + msg.user_data
    if len(ud) > 140:
        raise ValueError(f"user data of {len(ud)} octets does not fit one SMS")
    if dcs_alphabet(msg.dcs) == "gsm7":
        raise ValueError("encode_submit writes 8-bit or UCS2 data only")
    first = MTI_SUBMIT | (TP_UDHI if udh else 0) | (TP_SRR if msg.status_report else 0)
    vp = b""
    if msg.validity is not None:
        first |= TP_VPF_RELATIVE
        vp = bytes((msg.validity,))
    tpdu = (bytes((first, msg.mr)) + encode_address(msg.destination)
            + bytes((msg.pid, msg.dcs)) + vp + bytes((len(ud),)) + ud)
    return (encode_sca(msg.sca) + tpdu).hex().upper(), len(tpdu)


def wap_push_pdus(payload: bytes, destination: str, *, ref: int, ref16: bool = False,
                  validity: int | None = None, dcs: int = DCS_8BIT, sca: str | None = None,
                  always_concat: bool = False,
                  ports: tuple[int, int] | None = (2948, 9200)) -> list[tuple[str, int]]:
    """The SMS-SUBMIT PDUs that carry a WSP push PDU to port 2948, concatenated if needed."""
    return [encode_submit(SmsSubmit(destination=destination, user_data=chunk, udh=udh,
                                    validity=validity, dcs=dcs, sca=sca))
            for udh, chunk in split_user_data(payload, ref=ref, ref16=ref16, ports=ports,
                                              always_concat=always_concat)]


def _user_data(data: bytes, pos: int, first: int, dcs: int
               ) -> tuple[UserDataHeader | None, bytes]:
    if pos >= len(data):
        raise SMSDecodeError("missing TP-UDL", offset=pos)
    udl = data[pos]
    ud = data[pos + 1:]
    gsm7 = dcs_alphabet(dcs) == "gsm7"
    octets = (udl * 7 + 7) // 8 if gsm7 else udl
    if octets > 140 or len(ud) < octets:
        raise SMSDecodeError(f"TP-UDL {udl} does not match {len(ud)} octets", offset=pos)
    ud = ud[:octets]
    udh = None
    hlen = 0
    if first & TP_UDHI:
        udh, hlen = decode_udh(ud, pos + 1)
        if hlen > octets:
            raise SMSDecodeError("UDH longer than TP-UDL", offset=pos)
    if gsm7:
        fill = (7 - (hlen * 8) % 7) % 7
        skip = (hlen * 8 + fill) // 7
        return udh, unpack_septets(ud[hlen:], max(udl - skip, 0), fill)
    return udh, bytes(ud[hlen:])


def decode_submit(pdu: bytes, *, with_sca: bool = True) -> SmsSubmit:
    """Parse an SMS-SUBMIT (what we send; used by tests and modem simulators)."""
    try:
        sca, pos = _read_sca(pdu) if with_sca else (None, 0)
        if pos + 2 > len(pdu):
            raise SMSDecodeError("truncated SMS-SUBMIT", offset=pos)
        first, mr = pdu[pos], pdu[pos + 1]
        if first & 0x03 != MTI_SUBMIT:
            raise SMSDecodeError(f"TP-MTI {first & 3} is not SMS-SUBMIT", offset=pos)
        dest, pos = _read_address(pdu, pos + 2)
        if pos + 2 > len(pdu):
            raise SMSDecodeError("truncated PID/DCS", offset=pos)
        pid, dcs = pdu[pos], pdu[pos + 1]
        pos += 2
        vpf = first & TP_VPF_MASK
        validity = None
        if vpf == TP_VPF_RELATIVE:
            if pos >= len(pdu):
                raise SMSDecodeError("truncated TP-VP", offset=pos)
            validity = pdu[pos]
            pos += 1
        elif vpf:
            pos += 7
        udh, ud = _user_data(pdu, pos, first, dcs)
    except ValueError as err:       # SMSDecodeError is a ValueError too
        if isinstance(err, SMSDecodeError):
            raise
        raise SMSDecodeError(str(err)) from err
    return SmsSubmit(destination=dest, user_data=ud, udh=udh, mr=mr, pid=pid, dcs=dcs,
                     validity=validity, status_report=bool(first & TP_SRR), sca=sca)


def decode_deliver(pdu: bytes, *, with_sca: bool = True) -> SmsDeliver:
    """Parse an SMS-DELIVER as a modem reports it (``+CMGR``/``+CMT``, SMSC prefix first)."""
    try:
        sca, pos = _read_sca(pdu) if with_sca else (None, 0)
        if pos >= len(pdu):
            raise SMSDecodeError("truncated SMS-DELIVER", offset=pos)
        first = pdu[pos]
        if first & 0x03 != MTI_DELIVER:
            raise SMSDecodeError(f"TP-MTI {first & 3} is not SMS-DELIVER", offset=pos)
        originator, pos = _read_address(pdu, pos + 1)
        if pos + 9 > len(pdu):
            raise SMSDecodeError("truncated PID/DCS/SCTS", offset=pos)
        pid, dcs = pdu[pos], pdu[pos + 1]
        try:
            stamp = decode_scts(pdu[pos + 2:pos + 9])
        except ValueError as err:
            raise SMSDecodeError(f"bad TP-SCTS: {err}", offset=pos + 2) from err
        udh, ud = _user_data(pdu, pos + 9, first, dcs)
    except SMSDecodeError:
        raise
    except ValueError as err:
        raise SMSDecodeError(str(err)) from err
    return SmsDeliver(originator=originator, timestamp=stamp, user_data=ud, udh=udh, pid=pid,
                      dcs=dcs, sca=sca, more_messages=not first & TP_MMS)


def decode_hex(pdu_hex: str | bytes) -> bytes:
    """Bytes of a modem PDU line; SMSDecodeError if it is not hex."""
    try:
        return bytes.fromhex(pdu_hex.decode("ascii") if isinstance(pdu_hex, bytes) else pdu_hex)
    except (ValueError, UnicodeDecodeError) as err:
        raise SMSDecodeError("PDU line is not hex") from err
