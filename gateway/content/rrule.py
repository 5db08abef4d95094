"""Recurrence rules: vCalendar 1.0 basic grammar (vCalendar 1.0 §3.8
"Recurrence Grammar": ``D1 #10``, ``W2 MO WE 20071231T000000Z``,
``MP1 1+ MO #0``, ``MD1 1 15 LD``, ``YM1 6 #0``, ``YD1 100``) <-> iCalendar 2.0
RECUR (RFC 5545 §3.3.10). Only the common shapes convert; anything else
returns None so the caller can drop the rule rather than change its meaning.
"""

from __future__ import annotations

import re

__all__ = ["rrule_10_to_20", "rrule_20_to_10"]

_WEEKDAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
# vCalendar 1.0 frequency prefix -> (RFC 5545 FREQ, BY-part the list fills)
_FREQ_10 = {
    "D": ("DAILY", None),
    "W": ("WEEKLY", "BYDAY"),
    "MP": ("MONTHLY", "BYDAY"),
    "MD": ("MONTHLY", "BYMONTHDAY"),
    "YM": ("YEARLY", "BYMONTH"),
    "YD": ("YEARLY", "BYYEARDAY"),
}
_HEAD = re.compile(r"(MP|MD|YM|YD|D|W)(\d+)$")
_END = re.compile(r"\d{8}(T\d{6}Z?)?$")
_OCCURRENCE = re.compile(r"(\d+)([+-])$")
_DEFAULT_COUNT = 2  # vCalendar 1.0 §3.8: "#2" when no duration is given


def rrule_10_to_20(rule: str, *, all_day: bool = False) -> str | None:
    """``W2 MO WE #10`` -> ``FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10``."""
    tokens = rule.upper().split()
    if not tokens:
        return None
    head = _HEAD.match(tokens[0])
    if head is None:
        return None
    freq, by_name = _FREQ_10[head.group(1)]
    parts = [f"FREQ={freq}"]
    interval = int(head.group(2))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    values: list[str] = []
    pending: list[str] = []
    last_was_day = False
    count: int | None = _DEFAULT_COUNT
    until: str | None = None
    for tok in tokens[1:]:
        tok = tok.rstrip("$")
        if not tok:
            continue
        if tok.startswith("#"):
            if not tok[1:].isdigit():
                return None
            count = int(tok[1:])
            continue
        if _END.match(tok):
            until, count = (tok[:8] if all_day else tok), None
            continue
        if by_name is None:
            if re.fullmatch(r"\d{4}", tok):
                continue  # D rule time list: kept implicit in DTSTART
            return None
        if tok in _WEEKDAYS and by_name == "BYDAY":
            if pending:
                values.extend(p + tok for p in pending)
            else:
                values.append(tok)
            last_was_day = True
            continue
        occ = _OCCURRENCE.match(tok)
        if occ is not None and (head.group(1) in ("MP", "MD", "YD")):
            if last_was_day:
                pending, last_was_day = [], False
            number = ("-" if occ.group(2) == "-" else "") + occ.group(1)
            if head.group(1) == "MP":
                pending.append(number)
            else:
                values.append(number)
            continue
        if tok == "LD" and head.group(1) == "MD":
            values.append("-1")
            continue
        if tok.isdigit() and by_name in ("BYMONTHDAY", "BYMONTH", "BYYEARDAY"):
            values.append(tok)
            continue
        return None
    if pending and not last_was_day:
        return None  # occurrence without a weekday
    if values:
        parts.append(f"{by_name}={','.join(values)}")
    if until is not None:
        parts.append(f"UNTIL={until}")
    elif count:
        parts.append(f"COUNT={count}")
    return ";".join(parts)


_FREQ_20 = {"DAILY": "D", "WEEKLY": "W", "MONTHLY": "M", "YEARLY": "Y"}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(SU|MO|TU|WE|TH|FR|SA)$")


def rrule_20_to_10(rule: str) -> str | None:
    """``FREQ=MONTHLY;BYDAY=1MO,-1FR;COUNT=5`` -> ``MP1 1+ MO 1- FR #5``."""
    fields: dict[str, str] = {}
    for part in rule.upper().split(";"):
        key, eq, value = part.partition("=")
        if not eq or key in fields:
            return None
        fields[key.strip()] = value.strip()
    freq = _FREQ_20.get(fields.pop("FREQ", ""))
    if freq is None:
        return None
    interval = fields.pop("INTERVAL", "1")
    count = fields.pop("COUNT", None)
    until = fields.pop("UNTIL", None)
    fields.pop("WKST", None)
    if not interval.isdigit() or (count is not None and not count.isdigit()):
        return None
    byday = fields.pop("BYDAY", None)
    bymonthday = fields.pop("BYMONTHDAY", None)
    bymonth = fields.pop("BYMONTH", None)
    byyearday = fields.pop("BYYEARDAY", None)
    if fields:
        return None  # BYSETPOS, BYHOUR ... have no 1.0 basic form
    words: list[str]
    if freq == "D":
        if byday or bymonthday or bymonth or byyearday:
            return None
        words = [f"D{interval}"]
    elif freq == "W":
        if bymonthday or bymonth or byyearday:
            return None
        days = byday.split(",") if byday else []
        if any(d not in _WEEKDAYS for d in days):
            return None
        words = [f"W{interval}", *days]
    elif freq == "M":
        if bymonth or byyearday or (byday and bymonthday):
            return None
        if byday:
            words = [f"MP{interval}"]
            for item in byday.split(","):
                match = _BYDAY.match(item)
                if match is None or match.group(1) is None:
                    return None
                number = int(match.group(1))
                words += [f"{abs(number)}{'-' if number < 0 else '+'}", match.group(2)]
        else:
            words = [f"MD{interval}", *_numbers_10(bymonthday)]
    else:
        if byday or bymonthday or (bymonth and byyearday):
            return None
        if byyearday:
            words = [f"YD{interval}", *_numbers_10(byyearday)]
        else:
            words = [f"YM{interval}", *(bymonth.split(",") if bymonth else [])]
    if None in words:
        return None
    if until is not None:
        words.append(until if "T" in until else until + "T000000")
    else:
        words.append(f"#{count}" if count is not None else "#0")
    return " ".join(words)


def _numbers_10(text: str | None) -> list[str | None]:
    """``1,-1`` -> ``["1", "1-"]`` (None marks an item that is not a number)."""
    out: list[str | None] = []
    for item in text.split(",") if text else []:
        if not item.lstrip("+-").isdigit():
            out.append(None)
            continue
        number = int(item)
        out.append(f"{abs(number)}-" if number < 0 else str(number))
    return out
