"""Merging two versions of one item and content equality for slow-sync pairing.

``merge`` combines two versions without a common ancestor (every value of either side
kept); ``merge3`` merges against the version both sides last agreed on (the base), so
a value deleted on one side stays deleted; without a usable base it is ``merge``.
Normalisation (what counts as the same value) is in ``fields.py``; the three-way
rules are in ``threeway.py``.
"""

from __future__ import annotations

from gateway.content import threeway
from gateway.content.convert import content_family
from gateway.content.errors import ContentError
from gateway.content.fields import (
    IGNORED, ITEMS, LIST_VALUED, MULTI_VALUED, Rules, group, is_vnote, item_key, list_value,
    note_text, same_version, signature,
)
from gateway.content.vformat import Component, Property, is_legacy, parse, serialize

__all__ = ["merge", "merge3", "same_content", "MULTI_VALUED", "LIST_VALUED", "IGNORED"]

_PREFER = ("client", "server")


def same_content(a: bytes, b: bytes, content_type: str) -> bool:
    """True when both items carry the same data, ignoring property order,
    folding, escaping, transfer encodings, PRODID/REV/UID and timestamps."""
    family, _ = content_family(content_type)
    if a == b:
        return True
    if family == "note":
        return note_text(a) == note_text(b)
    first, second = parse(a), parse(b)
    if is_legacy(first.version) and not is_legacy(second.version):
        # compare in the modern version, so both sides took the same lossy step
        first, second = second, first
    first, second = same_version(first, second)
    return signature(first) == signature(second)


def _insert(props: list[Property], prop: Property) -> None:
    """Append ``prop`` after the last property of its name (else at the end)."""
    for i in range(len(props) - 1, -1, -1):
        if props[i].name == prop.name:
            props.insert(i + 1, prop)
            return
    props.append(prop)


def _merge_props(pref: Component, other: Component) -> list[Property]:
    rules_p, rules_o = Rules(pref), Rules(other)
    props = list(pref.properties)
    mine = group(props)
    for name, theirs in group(other.properties).items():
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
            value = list_value(rules_p, pref.name, items)
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


def _merge_components(pref: Component, other: Component) -> Component:
    subs: list[Component] = []
    theirs = list(other.components)
    for sub in pref.components:
        key = item_key(sub)
        match = next((o for o in theirs if o.name != "VALARM" and item_key(o) == key), None)
        if match is None and sub.name in ITEMS:
            same = [o for o in theirs if o.name == sub.name]
            mine = [c for c in pref.components if c.name == sub.name]
            match = same[0] if len(same) == 1 and len(mine) == 1 else None
        if match is not None:
            theirs.remove(match)
            if sub.name in ITEMS or sub.name in ("VCARD", "VNOTE"):
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
    if family == "note" and not (is_vnote(pref_data) and is_vnote(other_data)):
        return pref_data  # plain text has no fields to merge
    pref = parse(pref_data)
    try:
        other = parse(other_data)
    except ContentError:
        return pref_data  # nothing to take from the other side
    pref, other = same_version(pref, other)
    if pref.name != other.name:
        raise ContentError(f"cannot merge {pref.name} with {other.name}")
    merged = _merge_components(pref, other)
    return serialize(merged)


def merge3(base: bytes | None, server: bytes, client: bytes, content_type: str,
           prefer: str = "server") -> bytes:
    """Merge the changes each side made since ``base`` (the version both last agreed
    on): a change on one side wins, a value deleted on one side stays deleted, a
    conflicting change takes the ``prefer`` side's ('client'/'server') value except
    that an edit beats a deletion (rules: ``threeway.py``). Plain text notes: the
    changed side, else the ``prefer`` side. No base (None, or not parsable as the
    same kind of item): ``merge``. The result is in the preferred side's version;
    when it takes nothing from the other side it is the preferred side's bytes."""
    if prefer not in _PREFER:
        raise ValueError(f"prefer must be 'client' or 'server', not {prefer!r}")
    if base is None:
        return merge(server, client, content_type, prefer)
    family, _ = content_family(content_type)
    pref_data, other_data = (client, server) if prefer == "client" else (server, client)
    if family == "note" and not all(map(is_vnote, (base, pref_data, other_data))):
        try:
            texts = [note_text(d) for d in (base, pref_data, other_data)]
        except ContentError:
            return merge(server, client, content_type, prefer)
        return other_data if texts[1] == texts[0] != texts[2] else pref_data
    pref = parse(pref_data)
    try:
        other = parse(other_data)
    except ContentError:
        return pref_data  # nothing to take from the other side
    try:
        origin = parse(base)
    except ContentError:
        return merge(server, client, content_type, prefer)
    pref, other = same_version(pref, other)
    if pref.name != other.name:
        raise ContentError(f"cannot merge {pref.name} with {other.name}")
    if origin.name != pref.name:
        return merge(server, client, content_type, prefer)
    pref, origin = same_version(pref, origin)
    merged, changed = threeway.merge_component(origin, pref, other)
    return serialize(merged) if changed else pref_data
