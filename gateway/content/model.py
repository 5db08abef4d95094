"""The vObject model shared by all content modules: frozen `Property` and
`Component` values (see `gateway.content.vformat` for the line syntax)."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = [
    "Component",
    "Property",
    "Params",
    "is_legacy",
    "encoding_of",
    "charset_of",
    "QP",
    "BASE64",
]

Params = tuple[tuple[str, tuple[str, ...]], ...]

QP = "QUOTED-PRINTABLE"
BASE64 = "BASE64"
# Versions whose lines follow vCard 2.1 rules (QP soft breaks, bare params, base64 blank line).
_LEGACY_VERSIONS = frozenset({"2.1", "1.0", "1.1"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Property:
    """One content line: ``group.NAME;PARAM=V1,V2;BARE:value``.

    ``params`` keeps order; a bare 2.1 param (``TEL;CELL``) is ``("CELL", ())``.
    """

    name: str
    params: Params = ()
    value: str = ""
    group: str | None = None

    def param(self, name: str) -> tuple[str, ...]:
        """All values of the param ``name`` (upper-case name), in order."""
        out: tuple[str, ...] = ()
        for key, values in self.params:
            if key == name:
                out += values
        return out

    @property
    def types(self) -> frozenset[str]:
        """Upper-cased TYPE values plus bare params (2.1 ``TEL;CELL;HOME``)."""
        out = set()
        for key, values in self.params:
            if key == "TYPE":
                out.update(v.upper() for v in values)
            elif not values and key not in _BARE_NOT_TYPES:
                out.add(key)
        return frozenset(out)

    @property
    def encoding(self) -> str | None:
        """``QUOTED-PRINTABLE``, ``BASE64`` (also 3.0 ``b``) or None."""
        return encoding_of(self.params)

    @property
    def charset(self) -> str | None:
        return charset_of(self.params)

    def with_(self, **changes) -> Property:
        return replace(self, **changes)


_BARE_NOT_TYPES = frozenset({QP, BASE64, "8BIT", "7BIT"})


def encoding_of(params: Params) -> str | None:
    for key, values in params:
        if key == "ENCODING" and values:
            enc = values[0].upper()
            if enc == QP:
                return QP
            if enc in ("BASE64", "B"):
                return BASE64
        elif not values and key in (QP, BASE64):
            return key
    return None


def charset_of(params: Params) -> str | None:
    for key, values in params:
        if key == "CHARSET" and values:
            return values[0]
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Component:
    """``BEGIN:NAME`` … ``END:NAME`` with its properties and sub-components."""

    name: str
    properties: tuple[Property, ...] = ()
    components: tuple[Component, ...] = ()

    def first(self, name: str) -> Property | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    def all(self, name: str) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.name == name)

    def value(self, name: str, default: str | None = None) -> str | None:
        prop = self.first(name)
        return default if prop is None else prop.value

    def sub(self, name: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.name == name)

    @property
    def version(self) -> str | None:
        value = self.value("VERSION")
        return None if value is None else value.strip()

    def with_(self, **changes) -> Component:
        return replace(self, **changes)


def is_legacy(version: str | None) -> bool:
    """True for vCard 2.1 / vCalendar 1.0 / vNote 1.1 line rules."""
    return version is not None and version.strip() in _LEGACY_VERSIONS
