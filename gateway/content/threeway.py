"""Three-way merge of one item against its base: the rules behind ``merge.merge3``.

An item is split into slots, each holding one version per side (base, preferred,
other; a missing slot is the empty version): a property name for single-valued
properties; a normalised value for multi-valued ones (TEL, EMAIL, ADR ... or any
property given more than once), so two different values are two slots; an item for
list-valued ones (CATEGORIES ...); a sub-component (VEVENT, VTODO by RECURRENCE-ID,
VTIMEZONE by TZID, the VALARMs of an item together). Versions are compared
normalised (``fields.py``). Per slot:

- unchanged on one side since the base: the other side's version (so an edit, an
  addition and a removal made on one side all carry over);
- the same on both sides: that version;
- changed differently on both sides: the preferred side's, except that when one side
  removed the slot and the other edited it, the edit is kept; an item (VEVENT ...)
  edited on both sides is merged slot by slot.

A slot added on both sides (empty base) counts as changed on both. Bookkeeping
(VERSION, PRODID, REV, UID ...) is the preferred side's, else the other side's.
Pure functions over ``vformat`` components; both non-base sides arrive converted to
the preferred side's version.
"""

from __future__ import annotations

from gateway.content.fields import (
    IGNORED, LIST_VALUED, MULTI_VALUED, Rules, group, item_key, list_value, params_key,
    signature,
)
from gateway.content.vformat import Component, Property

__all__ = ["merge_component"]

_STRUCTURE = frozenset({"BEGIN", "END"})


def _take_other(base: tuple, pref: tuple, other: tuple) -> bool:
    """True when the slot takes the other side's version (see the module docstring)."""
    if other == base or other == pref:
        return False
    if pref == base:
        return True
    return not pref and bool(other)       # pref removed what other edited: keep the edit


class _Side:
    """One side of a component: its rules and properties by name."""

    def __init__(self, comp: Component, legacy: bool) -> None:
        self.comp = comp
        self.rules = Rules(comp, legacy)
        self.props = group(comp.properties)

    def version(self, props: list[Property]) -> tuple:
        """The comparable version of some properties (empty values do not count)."""
        return tuple(sorted((key, params_key(p)) for p in props
                            if (key := self.rules.key(p))))

    def by_value(self, name: str) -> dict[str, list[Property]]:
        out: dict[str, list[Property]] = {}
        for prop in self.props.get(name, ()):
            key = self.rules.key(prop, fold_case=True)
            if key:
                out.setdefault(key, []).append(prop)
        return out

    def items(self, name: str) -> dict[str, str]:
        """List items (casefolded -> as written) of a list-valued property, in order."""
        out: dict[str, str] = {}
        for prop in self.props.get(name, ()):
            for item in self.rules.parts(prop):
                out.setdefault(item.casefold(), item)
        return out


def _single(name: str, b: _Side, p: _Side, o: _Side) -> list[Property]:
    mine, theirs = p.props.get(name, []), o.props.get(name, [])
    if _take_other(b.version(b.props.get(name, [])), p.version(mine), o.version(theirs)):
        return [x for x in theirs if o.rules.key(x)]
    return mine


def _multi(name: str, b: _Side, p: _Side, o: _Side) -> list[Property]:
    base, mine, theirs = b.by_value(name), p.by_value(name), o.by_value(name)
    chosen = {}
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        pick = _take_other(b.version(base.get(key, [])), p.version(mine.get(key, [])),
                           o.version(theirs.get(key, [])))
        chosen[key] = theirs.get(key, []) if pick else mine.get(key, [])
    out: list[Property] = []
    for prop in p.props.get(name, ()):          # the preferred side's order first
        key = p.rules.key(prop, fold_case=True)
        if not key:
            out.append(prop)                     # an empty value stays as it was
        elif key in chosen:
            out.extend(chosen.pop(key))
    for props in chosen.values():                # then what the other side added
        out.extend(props)
    return out


def _list(name: str, b: _Side, p: _Side, o: _Side) -> list[Property]:
    base, mine, theirs = b.items(name), p.items(name), o.items(name)
    kept = []
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        was, have, got = key in base, key in mine, key in theirs
        if (got if have == was else have):
            kept.append(mine.get(key) or theirs[key])
    own = p.props.get(name, [])
    if kept == list(mine.values()):
        return own
    if not kept:
        return []
    template = own[0] if own else o.props[name][0]
    return [template.with_(value=list_value(p.rules, p.comp.name, kept))]


def _merge_properties(b: _Side, p: _Side, o: _Side) -> tuple[list[Property], bool]:
    results: dict[str, list[Property]] = {}
    for name in [*p.props, *(n for n in o.props if n not in p.props)]:
        if name in _STRUCTURE:
            continue
        if name in IGNORED:
            results[name] = p.props.get(name) or o.props[name]
        elif name in LIST_VALUED:
            results[name] = _list(name, b, p, o)
        elif name in MULTI_VALUED or max(len(s.props.get(name, ())) for s in (b, p, o)) > 1:
            results[name] = _multi(name, b, p, o)
        else:
            results[name] = _single(name, b, p, o)
    changed = any(results[n] != p.props.get(n, []) for n in results)
    if not changed:
        return list(p.comp.properties), False
    out: list[Property] = []
    for prop in p.comp.properties:
        out.extend(results.pop(prop.name, ()))
    for props in results.values():
        out.extend(props)
    return out, True


def _subs_by_key(comp: Component) -> dict[tuple, list[Component]]:
    out: dict[tuple, list[Component]] = {}
    for sub in comp.components:
        out.setdefault(item_key(sub), []).append(sub)
    return out


def _version(comps: list[Component]) -> tuple:
    return tuple(sorted((signature(c) for c in comps), key=repr))


def _merge_subs(b: Component, p: Component, o: Component,
                legacy: bool) -> tuple[list[Component], bool]:
    base, mine, theirs = _subs_by_key(b), _subs_by_key(p), _subs_by_key(o)
    out: list[Component] = []
    changed = False
    for key in [*mine, *(k for k in theirs if k not in mine)]:
        was, have, got = base.get(key, []), mine.get(key, []), theirs.get(key, [])
        vb, vp, vo = _version(was), _version(have), _version(got)
        if (len(have) == 1 and len(got) == 1 and len(was) <= 1
                and len({vb, vp, vo}) == 3):    # one item edited on both sides
            origin = was[0] if was else Component(name=have[0].name)
            merged, edited = merge_component(origin, have[0], got[0], legacy=legacy)
            out.append(merged)
            changed = changed or edited
        elif _take_other(vb, vp, vo):
            out.extend(got)
            changed = True
        else:
            out.extend(have)
    return out, changed


def merge_component(base: Component, pref: Component, other: Component, *,
                    legacy: bool | None = None) -> tuple[Component, bool]:
    """``pref`` with the changes ``other`` made since ``base`` (same component name
    and version); True when anything differs from ``pref``. ``legacy`` is the escaping
    of the item's version, for components that carry no VERSION of their own."""
    if legacy is None:
        legacy = Rules(pref).legacy
    sides = [_Side(c, legacy) for c in (base, pref, other)]
    props, props_changed = _merge_properties(*sides)
    subs, subs_changed = _merge_subs(base, pref, other, legacy)
    if not (props_changed or subs_changed):
        return pref, False
    return pref.with_(properties=tuple(props), components=tuple(subs)), True
