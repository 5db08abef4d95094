"""Field-level merge of two versions of one item (conflict resolution without
a common ancestor) and content equality for pairing items on slow sync."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.content import escaping, notes, vcalendar, vcard
from gateway.content.caltime import parse_time
from gateway.content.convert import content_family
from gateway.content.errors import ContentError
from gateway.content.vformat import Component, Property, is_legacy, parse, serialize

__all__ = ["merge", "same_content", "MULTI_VALUED", "LIST_VALUED", "IGNORED"]

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
# Ignored by same_content: bookkeeping that changes without the content changing.
IGNORED = frozenset(
    {"VERSION", "PRODID", "REV", "UID", "X-IRMC-LUID", "LAST-MODIFIED", "DTSTAMP", "CREATED",
     "DCREATED", "SEQUENCE"}
)  # fmt: skip
_TIME_NAMES = frozenset(
    {"BDAY", "ANNIVERSARY", "DTSTART", "DTEND", "DUE", "COMPLETED", "RECURRENCE-ID", "EXDATE",
     "RDATE"}
)
_TRANSFER = frozenset(
    {"ENCODING", "CHARSET", "VALUE", "QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"}
)
_DEFAULT_TYPES = {"TEL": {"VOICE"}, "EMAIL": {"INTERNET"}}
_ITEMS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})


class _Rules:
    """How values of one item are read: legacy escaping, compound names."""

    def __init__(self, component: Component) -> None:
        self.legacy = is_legacy(component.version)
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


def _params_key(prop: Property) -> tuple:
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


def _signature(comp: Component) -> tuple:
    rules = _Rules(comp)
    props = []
    for prop in comp.properties:
        if prop.name in IGNORED:
            continue
        value = rules.key(prop)
        if value:
            props.append((prop.name, _params_key(prop), value))
    subs = sorted((_signature(sub) for sub in comp.components), key=repr)
    return comp.name, tuple(sorted(props)), tuple(subs)


def _same_version(a: Component, b: Component) -> tuple[Component, Component]:
    """Bring ``b`` to ``a``'s version when they differ (calendars and vCards)."""
    if a.version == b.version or a.name != b.name:
        return a, b
    if a.name == "VCALENDAR" and a.version in ("1.0", "2.0"):
        return a, vcalendar.convert_calendar(b, a.version)
    if a.name == "VCARD" and a.version in ("2.1", "3.0"):
        return a, vcard.convert_card(b, a.version)
    return a, b


def same_content(a: bytes, b: bytes, content_type: str) -> bool:
    """True when both items carry the same data, ignoring property order,
    folding, escaping, transfer encodings, PRODID/REV/UID and timestamps."""
    family, _ = content_family(content_type)
    if a == b:
        return True
    if family == "note":
        return _note_text(a) == _note_text(b)
    first, second = parse(a), parse(b)
    if is_legacy(first.version) and not is_legacy(second.version):
        # compare in the modern version, so both sides took the same lossy step
        first, second = second, first
    first, second = _same_version(first, second)
    return _signature(first) == _signature(second)


def _is_vnote(data: bytes) -> bool:
    return data.lstrip()[:11].upper() == b"BEGIN:VNOTE"


def _note_text(data: bytes) -> str:
    text = notes.note_text(parse(data)) if _is_vnote(data) else notes.decode_plain(data)
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def _group(props: Iterable[Property]) -> dict[str, list[Property]]:
    out: dict[str, list[Property]] = {}
    for prop in props:
        out.setdefault(prop.name, []).append(prop)
    return out


def _insert(props: list[Property], prop: Property) -> None:
    """Append ``prop`` after the last property of its name (else at the end)."""
    for i in range(len(props) - 1, -1, -1):
        if props[i].name == prop.name:
            props.insert(i + 1, prop)
            return
    props.append(prop)


def _merge_props(pref: Component, other: Component) -> list[Property]:
    rules_p, rules_o = _Rules(pref), _Rules(other)
    props = list(pref.properties)
    mine = _group(props)
    for name, theirs in _group(other.properties).items():
        if name in ("VERSION", "BEGIN", "END"):
            continue
        have = mine.get(name, [])
        filled = [p for p in have if rules_p.key(p)]
        if name in LIST_VALUED and have:
            items = [i for p in have for i in rules_p.parts(p)]
            seen = {i.casefold() for i in items}
            for item in (i for p in theirs for i in rules_o.parts(p)):
                if item.casefold() not in seen:
                    seen.add(item.casefold())
                    items.append(item)
            if rules_p.legacy:
                sep = ";" if pref.name != "VCARD" else ","
                value = sep.join(i.replace(";", "\\;") for i in items)
            else:
                value = ",".join(escaping.escape(i, legacy=False) for i in items)
            props[props.index(have[0])] = have[0].with_(value=value)
            for extra in have[1:]:
                props.remove(extra)
        elif name in MULTI_VALUED or len(theirs) > 1 or len(have) > 1:
            seen = {rules_p.key(p, fold_case=True) for p in filled}
            for prop in theirs:
                key = rules_o.key(prop, fold_case=True)
                if key and key not in seen:
                    seen.add(key)
                    _insert(props, prop)
        elif not filled:
            best = next((p for p in theirs if rules_o.key(p)), None)
            if best is None:
                if not have:
                    props.extend(theirs)
            elif have:
                props[props.index(have[0])] = best
            else:
                props.append(best)
    return props


def _item_key(comp: Component) -> tuple:
    if comp.name == "VTIMEZONE":
        return comp.name, comp.value("TZID")
    rid = comp.value("RECURRENCE-ID")
    when = parse_time(rid) if rid else None
    return comp.name, when.format() if when else rid


def _merge_components(pref: Component, other: Component) -> Component:
    subs: list[Component] = []
    theirs = list(other.components)
    for sub in pref.components:
        key = _item_key(sub)
        match = next((o for o in theirs if o.name != "VALARM" and _item_key(o) == key), None)
        if match is None and sub.name in _ITEMS:
            same = [o for o in theirs if o.name == sub.name]
            mine = [c for c in pref.components if c.name == sub.name]
            match = same[0] if len(same) == 1 and len(mine) == 1 else None
        if match is not None:
            theirs.remove(match)
            if sub.name in _ITEMS or sub.name in ("VCARD", "VNOTE"):
                sub = _merge_components(sub, match)
        subs.append(sub)
    has_alarm = any(c.name == "VALARM" for c in pref.components)
    for sub in theirs:
        if sub.name == "VALARM" and has_alarm:
            continue
        subs.append(sub)
    return pref.with_(properties=tuple(_merge_props(pref, other)), components=tuple(subs))


def merge(server: bytes, client: bytes, content_type: str, prefer: str = "server") -> bytes:
    """Both versions combined: every property of either side is kept;
    single-valued ones take the ``prefer`` side's value ('client'/'server'),
    multi-valued ones (TEL, EMAIL, ADR, CATEGORIES items ...) are unioned
    without duplicates (compared normalised)."""
    if prefer not in ("client", "server"):
        raise ValueError(f"prefer must be 'client' or 'server', not {prefer!r}")
    family, _ = content_family(content_type)
    pref_data, other_data = (client, server) if prefer == "client" else (server, client)
    if family == "note" and not (_is_vnote(pref_data) and _is_vnote(other_data)):
        return pref_data  # plain text has no fields to merge
    pref = parse(pref_data)
    try:
        other = parse(other_data)
    except ContentError:
        return pref_data  # nothing to take from the other side
    pref, other = _same_version(pref, other)
    if pref.name != other.name:
        raise ContentError(f"cannot merge {pref.name} with {other.name}")
    merged = _merge_components(pref, other)
    return serialize(merged)
