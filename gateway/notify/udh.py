"""SMS user data headers (3GPP TS 23.040 §9.2.3.24): ports, concatenation, splitting, and
reassembly of concatenated parts.

WAP Push over SMS uses 16-bit port addressing, destination 2948 / source 9200, and
concatenation with an 8-bit (IEI 0x00) or 16-bit (IEI 0x08) reference (omads-protocol.md §7.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.notify.errors import SMSDecodeError

# TS 23.040 §9.2.3.24 information element identifiers used here.
IEI_CONCAT_8 = 0x00
IEI_PORTS_8 = 0x04
IEI_PORTS_16 = 0x05
IEI_CONCAT_16 = 0x08

WAP_PUSH_PORT = 2948       # WDP connectionless push (WAP-259 WDP; §7.1)
WAP_SOURCE_PORT = 9200     # connectionless WSP server port used by PPGs
MAX_USER_DATA = 140        # octets of TP-UD in one SMS


@dataclass(frozen=True, kw_only=True, slots=True)
class Concat:
    ref: int
    total: int
    seq: int


@dataclass(frozen=True, kw_only=True, slots=True)
class UserDataHeader:
    """The information elements in order; ``ports`` and ``concat`` are read from them."""

    elements: tuple[tuple[int, bytes], ...] = ()

    @property
    def ports(self) -> tuple[int, int] | None:
        """(destination, source) from IEI 0x05 or 0x04."""
        for iei, data in self.elements:
            if iei == IEI_PORTS_16 and len(data) == 4:
                return int.from_bytes(data[:2], "big"), int.from_bytes(data[2:], "big")
            if iei == IEI_PORTS_8 and len(data) == 2:
                return data[0], data[1]
        return None

    @property
    def concat(self) -> Concat | None:
        for iei, data in self.elements:
            if iei == IEI_CONCAT_8 and len(data) == 3:
                return Concat(ref=data[0], total=data[1], seq=data[2])
            if iei == IEI_CONCAT_16 and len(data) == 4:
                return Concat(ref=int.from_bytes(data[:2], "big"), total=data[2], seq=data[3])
        return None

    def encode(self) -> bytes:
        """UDHL followed by the elements."""
        body = b"".join(bytes((iei, len(data))) + data for iei, data in self.elements)
        if len(body) > MAX_USER_DATA - 1:
            raise ValueError("user data header too long")
        return bytes((len(body),)) + body


def decode_udh(ud: bytes, offset: int = 0) -> tuple[UserDataHeader, int]:
    """Parse the UDH at the start of TP-UD; returns it and its size including UDHL."""
    if not ud:
        raise SMSDecodeError("UDHI set but user data is empty", offset=offset)
    udhl = ud[0]
    if 1 + udhl > len(ud):
        raise SMSDecodeError(f"UDH length {udhl} overruns the user data", offset=offset)
    pos, end = 1, 1 + udhl
    elements = []
    while pos < end:
        if pos + 2 > end:
            raise SMSDecodeError("truncated information element", offset=offset + pos)
        iei, length = ud[pos], ud[pos + 1]
        if pos + 2 + length > end:
            raise SMSDecodeError(f"IE {iei:#04x} overruns the UDH", offset=offset + pos)
        elements.append((iei, bytes(ud[pos + 2:pos + 2 + length])))
        pos += 2 + length
    return UserDataHeader(elements=tuple(elements)), end


def port_element(dest: int = WAP_PUSH_PORT, src: int = WAP_SOURCE_PORT) -> tuple[int, bytes]:
    return IEI_PORTS_16, dest.to_bytes(2, "big") + src.to_bytes(2, "big")


def concat_element(ref: int, total: int, seq: int, *, ref16: bool = False) -> tuple[int, bytes]:
    if ref16:
        return IEI_CONCAT_16, ref.to_bytes(2, "big") + bytes((total, seq))
    return IEI_CONCAT_8, bytes((ref, total, seq))


def split_user_data(payload: bytes, *, ref: int, ports: tuple[int, int] | None = (
        WAP_PUSH_PORT, WAP_SOURCE_PORT), ref16: bool = False,
        always_concat: bool = False) -> list[tuple[UserDataHeader, bytes]]:
    """(UDH, chunk) per SMS: one part if it fits 140 octets, else concatenated parts
    (128 payload octets each with ports and an 8-bit reference, 127 with a 16-bit one)."""
    if not 0 <= ref < (1 << (16 if ref16 else 8)):
        raise ValueError("concatenation reference out of range")
    base = (port_element(*ports),) if ports else ()
    single = UserDataHeader(elements=base)
    single_size = (len(single.encode()) if base else 0) + len(payload)
    if not always_concat and single_size <= MAX_USER_DATA:
        return [(single, payload)]
    probe = UserDataHeader(elements=base + (concat_element(ref, 1, 1, ref16=ref16),))
    room = MAX_USER_DATA - len(probe.encode())
    chunks = [payload[i:i + room] for i in range(0, len(payload), room)] or [b""]
    if len(chunks) > 255:
        raise ValueError(f"payload needs {len(chunks)} parts; at most 255 fit")
    return [(UserDataHeader(elements=base + (concat_element(ref, len(chunks), n, ref16=ref16),)),
             chunk) for n, chunk in enumerate(chunks, start=1)]


# -- reassembly -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Reassembled:
    sender: str
    ports: tuple[int, int] | None
    data: bytes


@dataclass(kw_only=True, slots=True)
class _Pending:
    total: int
    first_seen: float
    ports: tuple[int, int] | None
    parts: dict[int, bytes] = field(default_factory=dict)


class Reassembler:
    """Joins concatenated parts by (sender, reference, total, ports).

    At most ``max_pending`` references are kept (the oldest is dropped first) and
    ``expire(now)`` drops those older than ``max_age`` seconds.
    """

    def __init__(self, *, max_pending: int = 16, max_age: float = 300.0):
        self.max_pending = max_pending
        self.max_age = max_age
        self._pending: dict[tuple, _Pending] = {}
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, *, sender: str, udh: UserDataHeader | None, data: bytes,
            now: float) -> Reassembled | None:
        """Add one part; returns the whole message once every part is in."""
        ports = udh.ports if udh else None
        concat = udh.concat if udh else None
        if concat is None or concat.total == 1:
            return Reassembled(sender=sender, ports=ports, data=data)
        if concat.total == 0 or not 1 <= concat.seq <= concat.total:
            raise SMSDecodeError(f"bad concatenation part {concat.seq}/{concat.total}")
        key = (sender, concat.ref, concat.total, ports)
        entry = self._pending.get(key)
        if entry is None:
            while len(self._pending) >= self.max_pending:
                oldest = min(self._pending, key=lambda k: self._pending[k].first_seen)
                del self._pending[oldest]
                self.dropped += 1
            entry = self._pending[key] = _Pending(total=concat.total, first_seen=now,
                                                  ports=ports)
        entry.parts[concat.seq] = data
        if len(entry.parts) < entry.total:
            return None
        del self._pending[key]
        return Reassembled(sender=sender, ports=ports,
                           data=b"".join(entry.parts[i] for i in range(1, entry.total + 1)))

    def expire(self, now: float) -> int:
        """Drop references first seen more than ``max_age`` ago; returns how many."""
        old = [k for k, v in self._pending.items() if now - v.first_seen > self.max_age]
        for k in old:
            del self._pending[k]
        self.dropped += len(old)
        return len(old)

    def next_deadline(self) -> float | None:
        if not self._pending:
            return None
        return min(v.first_seen for v in self._pending.values()) + self.max_age
