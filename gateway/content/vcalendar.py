"""vCalendar 1.0 <-> iCalendar 2.0 for VEVENT and VTODO, and UID look-up.

vCalendar 1.0: versit "vCalendar 1.0" spec; iCalendar 2.0: RFC 5545.
Not converted: time zones (1.0 TZ/DAYLIGHT and 2.0 VTIMEZONE/TZID are dropped,
times stay as written, i.e. UTC or floating), PALARM/MALARM, EMAIL alarms,
recurrence rules beyond `gateway.content.rrule`'s common shapes.
"""

from __future__ import annotations

from datetime import timedelta

from gateway.content import escaping
from gateway.content.alarms import alarm_to_10, alarm_to_20
from gateway.content.caltime import CalTime, parse_time
from gateway.content.errors import ContentError
from gateway.content.rrule import rrule_10_to_20, rrule_20_to_10
from gateway.content.vformat import Component, Property, find_lines, parse, serialize

__all__ = ["convert_calendar", "to_version", "extract_uid", "PRODID"]

PRODID = "-//omads-gateway//content//EN"
_ITEMS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})
_TIMES = frozenset({"DTSTART", "DTEND", "DUE", "COMPLETED", "RECURRENCE-ID"})
_STAMPS = frozenset({"LAST-MODIFIED", "DTSTAMP", "CREATED", "DCREATED"})
_LISTS = frozenset({"CATEGORIES", "RESOURCES"})  # 1.0 ';'-separated, 2.0 ','-separated
_VERBATIM = frozenset({"UID", "CLASS", "SEQUENCE", "URL", "GEO", "PRODID", "TZID"})
_ALARMS_10 = frozenset({"AALARM", "DALARM", "PALARM", "MALARM"})
_TRANSFER = frozenset({"ENCODING", "CHARSET", "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"})

# STATUS values: vCalendar 1.0 §3.6.25 vs RFC 5545 §3.8.1.11 (per component).
_STATUS_TO_20 = {
    "VEVENT": {"TENTATIVE": "TENTATIVE", "CONFIRMED": "CONFIRMED", "DECLINED": "CANCELLED"},
    "VTODO": {
        "NEEDS ACTION": "NEEDS-ACTION",
        "NEEDS-ACTION": "NEEDS-ACTION",
        "COMPLETED": "COMPLETED",
        "ACCEPTED": "IN-PROCESS",
        "IN-PROCESS": "IN-PROCESS",
        "DECLINED": "CANCELLED",
    },
}
_STATUS_TO_10 = {
    "VEVENT": {"TENTATIVE": "TENTATIVE", "CONFIRMED": "CONFIRMED", "CANCELLED": "DECLINED"},
    "VTODO": {
        "NEEDS-ACTION": "NEEDS ACTION",
        "COMPLETED": "COMPLETED",
        "IN-PROCESS": "ACCEPTED",
        "CANCELLED": "DECLINED",
    },
}
# PRIORITY: 1.0 uses 1 high / 2 normal / 3 low; RFC 5545 §3.8.1.9 1..9, 5 medium.
_PRIORITY_TO_20 = {0: 0, 1: 1, 2: 5, 3: 9}
_PARTSTAT = {"NEEDS ACTION": "NEEDS-ACTION", "SENT": "NEEDS-ACTION"}


def _plain(prop: Property, legacy: bool, sep: str | None = None) -> list[str]:
    return escaping.values_of(prop.value, legacy=legacy, sep=sep)


def _kept_params(prop: Property, *drop: str) -> tuple:
    return tuple((k, v) for k, v in prop.params if k not in _TRANSFER and k not in drop)


def _legacy_text(name: str, params: tuple, text: str, group: str | None = None) -> Property:
    value = text.replace("\r\n", "\n").replace("\r", "\n")
    extra = escaping.legacy_transfer(value)
    if extra and extra[0][0] == "ENCODING":
        value = value.replace("\n", "\r\n")
    return Property(name=name, params=params + tuple(extra), value=value, group=group)


def _all_day_10(item: Component) -> tuple[CalTime, CalTime] | None:
    """(start date, exclusive end date) when a 1.0 VEVENT spans whole days:
    date-only values, or 00:00 -> 23:59[:59] / 24:00 (SE P900 writes T240000)."""
    start_p, end_p = item.first("DTSTART"), item.first("DTEND")
    start = parse_time(start_p.value) if start_p else None
    if start is None:
        return None
    end = parse_time(end_p.value) if end_p else None
    if start.is_date:
        if end is None:
            return start, start.shifted(timedelta(days=1))
        return (start, end.shifted(timedelta(days=1))) if end.is_date else None
    if end is None or start.value.time().isoformat() != "00:00:00" or start.utc != end.utc:
        return None
    raw_end = end_p.value.upper()
    end_time = end.value.time().isoformat()
    if "T24" in raw_end:
        last = end.value
    elif end_time in ("23:59:00", "23:59:59"):
        last = end.value + timedelta(days=1)
    else:
        return None
    last = last.replace(hour=0, minute=0, second=0)
    if last <= start.value:
        return None
    return (
        CalTime(value=start.value, is_date=True),
        CalTime(value=last, is_date=True),
    )


def _item_to_20(item: Component) -> Component:
    props: list[Property] = []
    subs: list[Component] = list(c for c in item.components if c.name == "VALARM")
    start = parse_time(item.value("DTSTART") or "")
    all_day = _all_day_10(item) if item.name == "VEVENT" else None
    summary = escaping.unescape(item.value("SUMMARY") or "", legacy=True)
    for prop in item.properties:
        name = prop.name
        params = _kept_params(prop)
        if name in _ALARMS_10:
            alarm = alarm_to_20(prop, start=start, summary=summary)
            if alarm is not None:
                subs.append(alarm)
        elif all_day is not None and name in ("DTSTART", "DTEND"):
            when = all_day[0] if name == "DTSTART" else all_day[1]
            props.append(Property(name=name, params=(("VALUE", ("DATE",)),), value=when.format()))
        elif name in _TIMES or name in _STAMPS:
            when = parse_time(prop.value)
            value = when.format() if when is not None else prop.value.strip()
            if when is not None and when.is_date:
                params = tuple(p for p in params if p[0] != "VALUE") + (("VALUE", ("DATE",)),)
            name = "CREATED" if name == "DCREATED" else name
            props.append(Property(name=name, params=params, value=value))
        elif name in ("RRULE", "EXRULE"):
            rule = rrule_10_to_20(prop.value, all_day=all_day is not None)
            if rule is not None:
                props.append(Property(name=name, value=rule))
        elif name in ("EXDATE", "RDATE"):
            days = [parse_time(v) for v in prop.value.split(";") if v.strip()]
            if all_day is not None and all(d is not None for d in days):
                values = [d.format(as_date=True) for d in days]
                params = (("VALUE", ("DATE",)),)
            else:
                values = [d.format() if d else "" for d in days]
            props.append(Property(name=name, params=params, value=",".join(v for v in values if v)))
        elif name == "STATUS":
            status = _STATUS_TO_20.get(item.name, {}).get(prop.value.strip().upper())
            if status:
                props.append(Property(name=name, value=status))
        elif name == "PRIORITY":
            number = prop.value.strip()
            if number.isdigit():
                value = _PRIORITY_TO_20.get(int(number), min(int(number), 9))
                props.append(Property(name=name, value=str(value)))
        elif name == "TRANSP":
            opaque = prop.value.strip() in ("0", "OPAQUE")
            props.append(Property(name=name, value="OPAQUE" if opaque else "TRANSPARENT"))
        elif name == "ATTENDEE":
            props.append(_attendee_to_20(prop))
        elif name in _LISTS:
            parts = [p.strip() for p in _plain(prop, True, ";") if p.strip()]
            value = escaping.value_from(parts, legacy=False, sep=",")
            props.append(Property(name=name, params=params, value=value))
        elif name in _VERBATIM:
            props.append(Property(name=name, params=params, value=prop.value, group=prop.group))
        else:
            text = _plain(prop, True)[0]
            value = escaping.escape(text, legacy=False)
            props.append(Property(name=name, params=params, value=value, group=prop.group))
    if not any(p.name == "DTSTAMP" for p in props):
        stamps = [p for p in props if p.name in ("LAST-MODIFIED", "CREATED")]
        stamp = min(stamps, key=lambda p: p.name != "LAST-MODIFIED", default=None)
        if stamp is not None and stamp.value.endswith("Z"):
            props.append(Property(name="DTSTAMP", value=stamp.value))
    return Component(name=item.name, properties=tuple(props), components=tuple(subs))


def _attendee_to_20(prop: Property) -> Property:
    params = []
    role = None
    for key, values in _kept_params(prop):
        if key == "STATUS" and values:
            params.append(("PARTSTAT", (_PARTSTAT.get(values[0].upper(), values[0].upper()),)))
        elif key == "ROLE" and values:
            role = values[0].upper()
        elif key in ("CN", "RSVP", "EXPECT"):
            if key != "EXPECT":
                params.append((key, values))
    address = prop.value.strip()
    if ":" not in address:
        address = "mailto:" + address
    name = "ORGANIZER" if role in ("OWNER", "ORGANIZER") else "ATTENDEE"
    return Property(name=name, params=tuple(params), value=address)


def _item_to_10(item: Component) -> Component:
    props: list[Property] = []
    start_p = item.first("DTSTART")
    start = parse_time(start_p.value) if start_p else None
    all_day = start is not None and start.is_date and item.name == "VEVENT"
    for prop in item.properties:
        name = prop.name
        params = _kept_params(prop, "TZID", "VALUE")
        if name in _TIMES or name in _STAMPS:
            when = parse_time(prop.value)
            if when is None:
                continue
            if when.is_date and name == "DTEND" and all_day:
                when = CalTime(value=when.value - timedelta(seconds=1))
            elif when.is_date:
                when = CalTime(value=when.value)
            if name == "DTSTAMP":
                continue
            name = "DCREATED" if name == "CREATED" else name
            props.append(Property(name=name, params=params, value=when.format()))
        elif name in ("RRULE", "EXRULE"):
            rule = rrule_20_to_10(prop.value)
            if rule is not None:
                props.append(Property(name=name, value=rule))
        elif name in ("EXDATE", "RDATE"):
            days = [parse_time(v) for v in prop.value.split(",")]
            values = [CalTime(value=d.value, utc=d.utc).format() for d in days if d]
            props.append(Property(name=name, params=params, value=";".join(values)))
        elif name == "STATUS":
            status = _STATUS_TO_10.get(item.name, {}).get(prop.value.strip().upper())
            if status:
                props.append(Property(name=name, value=status))
        elif name == "PRIORITY":
            number = prop.value.strip()
            if number.isdigit():
                n = int(number)
                value = 0 if n == 0 else 1 if n < 5 else 2 if n == 5 else 3
                props.append(Property(name=name, value=str(value)))
        elif name == "TRANSP":
            transparent = prop.value.strip().upper() == "TRANSPARENT"
            props.append(Property(name=name, value="1" if transparent else "0"))
        elif name in ("ATTENDEE", "ORGANIZER"):
            props.append(_attendee_to_10(prop))
        elif name in _LISTS:
            parts = [p.strip() for p in _plain(prop, False, ",") if p.strip()]
            props.append(_legacy_text(name, params, ";".join(p.replace(";", "\\;") for p in parts)))
        elif name in _VERBATIM:
            props.append(Property(name=name, params=params, value=prop.value, group=prop.group))
        else:
            props.append(_legacy_text(name, params, _plain(prop, False)[0], prop.group))
    for alarm in item.sub("VALARM"):
        converted = alarm_to_10(alarm, item)
        if converted is not None:
            props.append(converted)
    return Component(name=item.name, properties=tuple(props))


def _attendee_to_10(prop: Property) -> Property:
    params = []
    for key, values in _kept_params(prop):
        if key == "PARTSTAT" and values:
            params.append(("STATUS", (values[0].upper().replace("-", " "),)))
        elif key in ("CN", "RSVP"):
            params.append((key, values))
    if prop.name == "ORGANIZER":
        params.append(("ROLE", ("OWNER",)))
    address = prop.value.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    return Property(name="ATTENDEE", params=tuple(params), value=address)


def convert_calendar(cal: Component, version: str) -> Component:
    """``cal`` (a VCALENDAR) rewritten as vCalendar 1.0 or iCalendar 2.0."""
    if cal.name != "VCALENDAR":
        raise ContentError(f"not a calendar: BEGIN:{cal.name}")
    if version not in ("1.0", "2.0"):
        raise ContentError(f"unsupported calendar version {version!r}")
    source = cal.version or ("2.0" if cal.sub("VTIMEZONE") else "1.0")
    if source == version:
        return cal
    to_20 = version == "2.0"
    drop = {"VERSION", "TZ", "DAYLIGHT", "GEO"} if to_20 else {"VERSION", "CALSCALE", "METHOD"}
    props = [Property(name="VERSION", value=version)]
    if cal.first("PRODID") is None:
        props.append(Property(name="PRODID", value=PRODID))
    for prop in cal.properties:
        if prop.name in drop:
            continue
        if prop.name in _VERBATIM:
            props.append(prop.with_(params=_kept_params(prop)))
        elif to_20:
            text = _plain(prop, True)[0]
            value = escaping.escape(text, legacy=False)
            props.append(Property(name=prop.name, params=_kept_params(prop), value=value))
        else:
            props.append(_legacy_text(prop.name, _kept_params(prop), _plain(prop, False)[0]))
    subs = []
    for sub in cal.components:
        if sub.name in _ITEMS:
            subs.append(_item_to_20(sub) if to_20 else _item_to_10(sub))
    return Component(name="VCALENDAR", properties=tuple(props), components=tuple(subs))


def to_version(data: bytes, version: str) -> bytes:
    """Bytes of a vCalendar/iCalendar -> bytes of calendar ``version``."""
    cal = parse(data)
    if cal.version == version:
        return data
    return serialize(convert_calendar(cal, version), version=version)


def extract_uid(data: bytes) -> str | None:
    """The UID of the first VEVENT/VTODO (not of a VALARM), by a regex scan."""
    upper = None
    for offset, prop in find_lines(data, "UID"):
        if upper is None:
            upper = data.upper()
        begin = upper.rfind(b"BEGIN:VALARM", 0, offset)
        if begin >= 0 and upper.rfind(b"END:VALARM", 0, offset) < begin:
            continue
        uid = prop.value.strip()
        return uid or None
    return None
