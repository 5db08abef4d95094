"""Alarms: vCalendar 1.0 AALARM/DALARM properties (vCalendar 1.0 §3.6.1,
§3.6.8: ``RunTime;SnoozeTime;RepeatCount;AudioContent|DisplayString``) <->
iCalendar 2.0 VALARM components (RFC 5545 §3.6.6)."""

from __future__ import annotations

from gateway.content import escaping
from gateway.content.caltime import CalTime, format_duration, parse_duration, parse_time
from gateway.content.vformat import Component, Property

__all__ = ["alarm_to_20", "alarm_to_10"]

_ACTION_TO_20 = {"AALARM": "AUDIO", "DALARM": "DISPLAY"}
_ACTION_TO_10 = {"AUDIO": "AALARM", "DISPLAY": "DALARM"}


def alarm_to_20(prop: Property, *, start: CalTime | None, summary: str) -> Component | None:
    """One AALARM/DALARM as a VALARM; the trigger is made relative to
    DTSTART when both are in the same form (UTC or floating)."""
    action = _ACTION_TO_20.get(prop.name)
    if action is None:
        return None  # PALARM (procedure), MALARM (mail): not carried over
    fields = escaping.values_of(prop.value, legacy=True)
    run = parse_time(fields[0]) if fields else None
    if run is None:
        return None
    props = [Property(name="ACTION", value=action)]
    if start is not None and start.utc == run.utc:
        props.append(Property(name="TRIGGER", value=format_duration(run.value - start.value)))
    else:
        absolute = (("VALUE", ("DATE-TIME",)),)
        props.append(Property(name="TRIGGER", params=absolute, value=run.format()))
    snooze = parse_duration(fields[1]) if len(fields) > 1 and fields[1].strip() else None
    repeat = fields[2].strip() if len(fields) > 2 else ""
    if snooze is not None and repeat.isdigit() and int(repeat) > 0:
        props.append(Property(name="DURATION", value=format_duration(snooze)))
        props.append(Property(name="REPEAT", value=repeat))
    if action == "DISPLAY":
        text = fields[3] if len(fields) > 3 and fields[3].strip() else (summary or "Reminder")
        props.append(Property(name="DESCRIPTION", value=escaping.escape(text, legacy=False)))
    return Component(name="VALARM", properties=tuple(props))


def _base_time(item: Component, related_end: bool) -> CalTime | None:
    names = ("DTEND", "DUE") if related_end else ("DTSTART", "DUE")
    for name in names:
        value = item.value(name)
        if value:
            when = parse_time(value)
            if when is not None:
                return CalTime(value=when.value, utc=when.utc)
    return None


def alarm_to_10(alarm: Component, item: Component) -> Property | None:
    """A VALARM as AALARM/DALARM with an absolute run time in the form of the
    item's DTSTART (relative triggers are resolved against DTSTART/DTEND/DUE)."""
    name = _ACTION_TO_10.get((alarm.value("ACTION") or "").strip().upper())
    trigger = alarm.first("TRIGGER")
    if name is None or trigger is None:
        return None
    value_type = trigger.param("VALUE")
    if value_type and value_type[0].upper() == "DATE-TIME":
        run = parse_time(trigger.value)
    else:
        delta = parse_duration(trigger.value)
        related = trigger.param("RELATED")
        base = _base_time(item, bool(related) and related[0].upper() == "END")
        run = base.shifted(delta) if base is not None and delta is not None else None
    if run is None:
        return None
    fields = [run.format(as_date=False), "", "", ""]
    snooze = alarm.value("DURATION")
    repeat = (alarm.value("REPEAT") or "").strip()
    if snooze and repeat.isdigit():
        fields[1], fields[2] = snooze.strip(), repeat
    if name == "DALARM":
        text = escaping.unescape(alarm.value("DESCRIPTION") or "", legacy=False)
        fields[3] = text.replace(";", "\\;")
    while len(fields) > 1 and not fields[-1]:
        fields.pop()
    value = ";".join(fields)
    params = tuple(escaping.legacy_transfer(value))
    if params and params[0][0] == "ENCODING":
        value = value.replace("\r\n", "\n").replace("\n", "\r\n")
    return Property(name=name, params=params, value=value)
