"""Does a recurring event have an occurrence in a time window? (for date-range filters)

RFC 5545 §3.3.10 RECUR (vCalendar 1.0 rules are converted first, gateway.content.rrule).
Occurrences step FREQ x INTERVAL from DTSTART, up to COUNT or UNTIL. A rule with BY*
parts is answered conservatively: every step period counts as possibly holding an
occurrence (and one occurrence of COUNT). EXDATE is not consulted. So the answer may be
"yes" for a series with no occurrence in the window, never "no" for one that has one:
a filter must not hide an event the user expects.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from gateway.content.caltime import parse_time
from gateway.content.rrule import rrule_10_to_20

_EPOCH = datetime(1970, 1, 1)
_FIXED = {"SECONDLY": 1.0, "MINUTELY": 60.0, "HOURLY": 3600.0, "DAILY": 86400.0,
          "WEEKLY": 7 * 86400.0}
_MONTHS = {"MONTHLY": 1, "YEARLY": 12}
_MAX_STEPS = 5000


def _parts(rule: str) -> dict[str, str] | None:
    text = rule.strip()
    if "FREQ=" not in text.upper():
        text = rrule_10_to_20(text) or ""
    parts = {}
    for piece in text.upper().split(";"):
        key, sep, value = piece.partition("=")
        if sep:
            parts[key.strip()] = value.strip()
    return parts if parts.get("FREQ") in (*_FIXED, *_MONTHS) else None


def _add_months(t: datetime, months: int) -> datetime:
    total = t.month - 1 + months
    year, month = t.year + total // 12, total % 12 + 1
    if year > 9999:
        return datetime.max
    day = min(t.day, calendar.monthrange(year, month)[1])
    return t.replace(year=year, month=month, day=day)


def occurs_in(rule: str, start: float, duration: float, lo: float | None,
              hi: float | None) -> bool:
    """Whether an occurrence of the series (first at ``start``, each ``duration``
    seconds long) overlaps [lo, hi] (epoch seconds, None: open)."""
    parts = _parts(rule)
    if parts is None:
        return hi is None or start <= hi          # a rule we cannot read: assume it recurs
    try:
        interval = max(1, int(parts.get("INTERVAL", "1")))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except ValueError:
        return hi is None or start <= hi
    until_t = parse_time(parts["UNTIL"]) if "UNTIL" in parts else None
    until = (until_t.value - _EPOCH).total_seconds() if until_t is not None else None
    if until_t is not None and until_t.is_date:
        until += 86400.0
    loose = any(k.startswith("BY") for k in parts)
    freq = parts["FREQ"]
    if freq in _FIXED:
        step = _FIXED[freq] * interval
        slack = step if loose else 0.0
        first = 0
        if lo is not None and lo - duration - slack > start:
            first = int((lo - duration - slack - start) // step)
        if count is not None and first >= count:
            return False
        n = first
        while count is None or n < count:
            t = start + n * step
            if (until is not None and t > until) or (hi is not None and t - slack > hi):
                return False
            if lo is None or t + duration + slack >= lo:
                return True
            n += 1
        return False
    months = _MONTHS[freq] * interval
    base = _EPOCH + timedelta(seconds=start)
    slack = 31 * 86400.0 * _MONTHS[freq] if loose else 0.0
    n = 0
    if lo is not None:
        n = max(0, int((lo - start - duration - slack) // (31 * 86400.0 * months)) - 1)
    for _ in range(_MAX_STEPS):
        if count is not None and n >= count:
            return False
        when = _add_months(base, n * months)
        t = (when - _EPOCH).total_seconds()
        if (until is not None and t > until) or (hi is not None and t - slack > hi):
            return False
        if lo is None or t + duration + slack >= lo:
            return True
        n += 1
    return True
