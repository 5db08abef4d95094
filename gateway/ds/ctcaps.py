"""The CTCap we advertise per content type (DevInf 1.2 §5.3.3; omads-protocol.md §3.11).

Data only: property names (and a few parameter names) per (CTType, VerCT). Property
lists follow vCard 2.1/3.0 (RFC 2426), vCalendar 1.0 and iCalendar 2.0 (RFC 5545).
"""

from __future__ import annotations

from gateway.syncml.devinf import CTCap, Property, PropParam

_VCARD_COMMON = ("BEGIN", "END", "VERSION", "UID", "N", "FN", "NICKNAME", "TEL", "EMAIL",
                 "ADR", "ORG", "TITLE", "ROLE", "NOTE", "BDAY", "URL", "PHOTO",
                 "CATEGORIES", "REV", "X-ANNIVERSARY", "X-SPOUSE")
_ICAL_COMMON = ("BEGIN", "END", "VERSION", "PRODID", "UID", "SUMMARY", "DESCRIPTION",
                "LOCATION", "DTSTART", "DTEND", "DUE", "COMPLETED", "RRULE", "EXDATE",
                "CLASS", "CATEGORIES", "STATUS", "PRIORITY", "LAST-MODIFIED", "DTSTAMP")
_ICAL20_ONLY = ("TRIGGER", "ACTION", "RECURRENCE-ID", "TZID", "TZOFFSETFROM", "TZOFFSETTO")
_VCAL10_ONLY = ("AALARM", "DALARM", "TZ", "DAYLIGHT")

# (CTType, VerCT) -> (property names, {property: parameter names})
CTCAP_TABLE: dict[tuple[str, str], tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    ("text/vcard", "3.0"): (_VCARD_COMMON, {"TEL": ("TYPE",), "EMAIL": ("TYPE",),
                                             "ADR": ("TYPE",)}),
    ("text/x-vcard", "2.1"): (_VCARD_COMMON, {"TEL": ("TYPE",), "EMAIL": ("TYPE",),
                                               "ADR": ("TYPE",)}),
    ("text/calendar", "2.0"): (_ICAL_COMMON + _ICAL20_ONLY, {}),
    ("text/x-vcalendar", "1.0"): (_ICAL_COMMON + _VCAL10_ONLY, {}),
}


def ctcap_for(ct_type: str, ver_ct: str) -> CTCap | None:
    row = CTCAP_TABLE.get((ct_type.lower(), ver_ct))
    if row is None:
        return None
    names, params = row
    return CTCap(ct_type=ct_type, ver_ct=ver_ct, properties=tuple(
        Property(prop_name=n, params=tuple(PropParam(param_name=p) for p in params.get(n, ())))
        for n in names))
