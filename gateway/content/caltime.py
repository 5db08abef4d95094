"""Date-time and duration values of vCalendar 1.0 (ISO 8601 basic) and
iCalendar 2.0 (RFC 5545 §3.3.4, §3.3.5, §3.3.6). Pure arithmetic, no clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["CalTime", "parse_time", "parse_duration", "format_duration"]

_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?")


@dataclass(frozen=True, kw_only=True, slots=True)
class CalTime:
    """A DATE or DATE-TIME value; ``utc`` for a trailing Z, floating otherwise."""

    value: datetime
    is_date: bool = False
    utc: bool = False

    def format(self, *, as_date: bool | None = None) -> str:
        if self.is_date if as_date is None else as_date:
            return self.value.strftime("%Y%m%d")
        return self.value.strftime("%Y%m%dT%H%M%S") + ("Z" if self.utc else "")

    def shifted(self, delta: timedelta) -> CalTime:
        return CalTime(value=self.value + delta, is_date=self.is_date, utc=self.utc)


def parse_time(text: str) -> CalTime | None:
    """``20061225``, ``20061222T110000Z``, ``2006-12-22T11:00:00`` ... or None.
    Hour 24 (vCalendar 1.0 end of day, seen from SE P900) becomes next day 00:00."""
    match = _TIME.fullmatch(text.strip().replace("-", "").replace(":", ""))
    if match is None:
        return None
    year, month, day, hour, minute, second, zulu = match.groups()
    try:
        base = datetime(int(year), int(month), int(day))
        if hour is None:
            return CalTime(value=base, is_date=True)
        delta = timedelta(hours=int(hour), minutes=int(minute), seconds=int(second or 0))
    except ValueError:
        return None
    return CalTime(value=base + delta, utc=zulu is not None)


_DURATION = re.compile(
    r"([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?"
)


def parse_duration(text: str) -> timedelta | None:
    """RFC 5545 §3.3.6 duration (``-PT15M``, ``P1W``, ``P1DT2H``) or None."""
    text = text.strip().upper()
    match = _DURATION.fullmatch(text)
    if match is None or text.rstrip("T").endswith("P"):
        return None
    sign, weeks, days, hours, minutes, seconds = match.groups()
    delta = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    return -delta if sign == "-" else delta


def format_duration(delta: timedelta) -> str:
    """Shortest RFC 5545 duration text for ``delta``."""
    sign = "-" if delta < timedelta(0) else ""
    total = abs(int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days and not rest and days % 7 == 0:
        return f"{sign}P{days // 7}W"
    out = f"{sign}P" + (f"{days}D" if days else "")
    if rest or not days:
        out += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out
