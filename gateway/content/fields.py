"""How merge and comparison see the properties of a vCard / vCalendar / vNote item:
which are multi-valued or list-valued, which are bookkeeping, and a normalised key
per value and per parameter set, so formatting, escaping, folding and transfer
encodings do not count as a difference. Shared by the two-way and three-way merge.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.content import escaping, notes, vcalendar, vcard
from gateway.content.caltime import parse_time
from gateway.content.vformat import Component, Property, is_legacy, parse

__all__ = ["MULTI_VALUED", "LIST_VALUED", "IGNORED", "ITEMS", "Rules", "params_key",
           "signature", "same_version", "item_key", "is_vnote", "note_text", "group",
           "list_value"]

# Properties that may occur several times: instances are unioned (RFC 2426 §3, RFC 5545 §3.6.1).
MULTI_VALUED = frozenset(
    {
        "TEL", "EMAIL", "ADR", "LABEL", "URL", "IMPP", "RELATED", "MEMBER", "KEY",
        "X-AIM", "X-ICQ", "X-JABBER", "X-MSN", "X-YAHOO", "X-SKYPE", "X-SIP", "X-GADUGADU",
        "ATTENDEE", "ATTACH", "COMMENT", "CONTACT", "EXDATE", "RDATE", "RELATED-TO",
    }
)  # fmt: skip
# Properties whose value is a list: items are unioned into one property.
LIST_VALUED = {"CATEGORIES": ",", "RESOURCES": ",", "NICKNAME": ","}
# Bookkeeping that changes without the content changing (ignored by same_content).
IGNORED = frozenset(
    {"VERSION", "PRODID", "REV", "UID", "X-IRMC-LUID", "LAST-MODIFIED", "DTSTAMP", "CREATED",
     "DCREATED", "SEQUENCE"}
)  # fmt: skip
# Calendar components that are items of their own (RFC 5545 §3.6).
ITEMS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})
_TIME_NAMES = frozenset(
    {"BDAY", "ANNIVERSARY", "DTSTART", "DTEND", "DUE", "COMPLETED", "RECURRENCE-ID", "EXDATE",
     "RDATE"}
)
_TRANSFER = frozenset(
    {"ENCODING", "CHARSET", "VALUE", "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"}
)
_DEFAULT_TYPES = {"TEL": {"VOICE"}, "EMAIL": {"INTERNET"}}


class Rules:
    """How values of one item are read: legacy escaping, compound names. ``legacy``
    overrides the item's own VERSION (a VEVENT has none: its calendar's counts)."""

    def __init__(self, component: Component, legacy: bool | None = None) -> None:
        self.legacy = is_legacy(component.version) if legacy is None else legacy
        self.structured = vcard.STRUCTURED if component.name == "VCARD" else frozenset()

    def parts(self, prop: Property) -> list[str]:
        if prop.encoding == "BASE64":
            return [prop.value]
        if prop.name in LIST_VALUED:
            sep = ";" if self.legacy and prop.name != "NICKNAME" else ","
            raw = escaping.values_of(prop.value, legacy=self.legacy, sep=sep)
            items = [i for r in raw for i in (r.split(",") if self.legacy else [r])]
            return [i.strip() for i in items if i.strip()]
        sep = ";" if prop.name in self.structured else None
        return escaping.values_of(prop.value, legacy=self.legacy, sep=sep)

    def key(self, prop: Property, *, fold_case: bool = False) -> str:
        """Normalised value: formatting, escaping and folding do not count."""
        name = prop.name
        if name == "TEL":
            return vcard.normalise_tel(prop.value)
        if name in _TIME_NAMES:
            sep = ";" if self.legacy else ","
            times = [parse_time(v) for v in prop.value.split(sep) if v.strip()]
            if times and None not in times:
                return ",".join(t.format() for t in times)
        parts = [" ".join(p.split()) for p in self.parts(prop)]
        if name in LIST_VALUED:
            parts = sorted(set(parts))
        while parts and not parts[-1]:
            parts.pop()
        text = "\x1f".join(parts)
        return text.casefold() if fold_case or name in ("EMAIL", "URL") else text


def params_key(prop: Property) -> tuple:
    """The parameters that mean something (TYPE values, PREF...), normalised."""
    out = set()
    for key, values in prop.params:
        if key in _TRANSFER:
            continue
        if not values:
            out.add(("TYPE", key))
        else:
            for value in values:
                value = value.upper()
                if key == "TYPE" and value.startswith("IMAGE/"):
                    value = value[6:]
                out.add((key, value))
    out -= {("TYPE", t) for t in _DEFAULT_TYPES.get(prop.name, ())}
    return tuple(sorted(out))


def signature(comp: Component) -> tuple:
    """A component's content, comparable across formatting and property order."""
    rules = Rules(comp)
    props = []
    for prop in comp.properties:
        if prop.name in IGNORED:
            continue
        value = rules.key(prop)
        if value:
            props.append((prop.name, params_key(prop), value))
    subs = sorted((signature(sub) for sub in comp.components), key=repr)
    return comp.name, tuple(sorted(props)), tuple(subs)


def same_version(a: Component, b: Component) -> tuple[Component, Component]:
    """Bring ``b`` to ``a``'s version when they differ (calendars and vCards)."""
    if a.version == b.version or a.name != b.name:
        return a, b
    if a.name == "VCALENDAR" and a.version in ("1.0", "2.0"):
        return a, vcalendar.convert_calendar(b, a.version)
    if a.name == "VCARD" and a.version in ("2.1", "3.0"):
        return a, vcard.convert_card(b, a.version)
    return a, b


def item_key(comp: Component) -> tuple:
    """Which sub-component this is: a time zone by TZID, an item by RECURRENCE-ID."""
    if comp.name == "VTIMEZONE":
        return comp.name, comp.value("TZID")
    rid = comp.value("RECURRENCE-ID")
    when = parse_time(rid) if rid else None
    return comp.name, when.format() if when else rid


def is_vnote(data: bytes) -> bool:
    return data.lstrip()[:11].upper() == b"BEGIN:VNOTE"


def note_text(data: bytes) -> str:
    """A note's text (vNote BODY or plain text), line ends and trailing blanks normalised."""
    text = notes.note_text(parse(data)) if is_vnote(data) else notes.decode_plain(data)
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def group(props: Iterable[Property]) -> dict[str, list[Property]]:
    """Properties by name, in order of first appearance."""
    out: dict[str, list[Property]] = {}
    for prop in props:
        out.setdefault(prop.name, []).append(prop)
    return out


def list_value(rules: Rules, comp_name: str, items: list[str]) -> str:
    """The value of a list property (CATEGORIES...) holding ``items``, escaped for the
    item's version (legacy vCalendar separates with ';', vCard 2.1 with ',')."""
    if rules.legacy:
        sep = ";" if comp_name != "VCARD" else ","
        return sep.join(i.replace(";", "\\;") for i in items)
    return ",".join(escaping.escape(i, legacy=False) for i in items)
