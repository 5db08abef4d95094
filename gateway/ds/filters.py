"""Record filters: the ``syncml:filtertype-cgi`` language and the Synthesis date range.

Facts (omads-protocol.md §3.10; SYSYNC localengineds.cpp ``parseFilterCGI`` and the
DS 1.2 ``<Filter>`` check): a term is ``ident OP value``; OP is ``&EQ;`` ``&NE;``
``&GT;`` ``&GE;`` ``&LT;`` ``&LE;`` ``&CON;`` ``&NCON;``, each also with an ``i`` prefix
(``&iEQ;``) for a case-insensitive compare; terms join with ``&AND;`` / ``&OR;`` (a bare
``&`` or ``&amp;`` is AND, ``|`` is OR) and group with parentheses; ``&NULL;`` as a value
means "empty or missing"; ``%xx`` escapes a value byte. Bad syntax is 422 (Bad CGI
script). Our choice where the sources are silent: AND binds tighter than OR.
The SYSYNC filter keywords ``SINCE&EQ;ts`` / ``BEFORE&EQ;ts`` and the 1.1-style
URI option ``/dr(before,after)`` (days relative to now) select items whose time span
overlaps the range; ``/fi(expr)`` and ``/tf(expr)`` carry an expression in a URI.

Evaluation is against a parsed ``gateway.content`` component (the VEVENT/VTODO inside
a VCALENDAR). A property holding several values (CATEGORIES, several TEL lines)
matches when any value does; ``&NE;`` / ``&NCON;`` hold when no value is equal /
contains. Date properties compare as times (floating times read as UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from gateway.content.caltime import CalTime, parse_duration, parse_time
from gateway.content.errors import ContentError
from gateway.content.model import Component
from gateway.content.vformat import parse
from gateway.ds.recurrence import occurs_in
from gateway.syncml.codes import StatusCode

BAD_CGI = StatusCode.BAD_CGI_SCRIPT     # omads-protocol.md §3.8 table: malformed CGI/filter
NOT_SUPPORTED = StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED   # an option we do not know
UNSUPPORTED_TYPE = StatusCode.UNSUPPORTED_MEDIA_TYPE

CGI_GRAMMAR = "syncml:filtertype-cgi"
INCLUSIVE, EXCLUSIVE = "INCLUSIVE", "EXCLUSIVE"
DEFAULT_FILTER_TYPE = EXCLUSIVE   # SYSYNC localengineds.cpp: "default is EXCLUSIVE"

# operator entity (without '&', ';' and the 'i' prefix) -> internal name
OPERATORS = {"EQ": "eq", "NE": "ne", "GT": "gt", "GE": "ge", "LT": "lt", "LE": "le",
             "CON": "con", "NCON": "ncon"}
# The keywords we advertise in FilterCap (DevInf 1.2 §5.3.4).
FILTER_KEYWORDS = ("SINCE", "BEFORE")
DATE_PROPERTIES = frozenset({"DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "DTSTAMP",
                             "LAST-MODIFIED", "REV", "BDAY", "RECURRENCE-ID"})
_EPOCH = datetime(1970, 1, 1)
_DAY = 86400.0


class FilterError(ValueError):
    """A filter we cannot apply; ``status`` is the code for the Alert."""

    def __init__(self, message: str, status: int = BAD_CGI):
        super().__init__(message)
        self.status = status


# -- the expression tree ---------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class Term:
    prop: str
    op: str
    value: str | None          # None: &NULL;
    fold: bool = False         # case-insensitive variant


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """Items whose time span overlaps [lo, hi] (epoch seconds; None: open)."""

    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class All:
    parts: tuple


@dataclass(frozen=True, kw_only=True, slots=True)
class Any_:
    parts: tuple


Node = Term | Window | All | Any_


# -- parsing --------------------------------------------------------------------------
_IDENT = re.compile(r"&LUID;|[A-Za-z0-9_.\[\]-]+")
_OP = re.compile(r"&(i?)(EQ|NE|GT|GE|LT|LE|CON|NCON);", re.IGNORECASE)
_LOGIC = re.compile(r"&(AND|OR|amp);|&|\|", re.IGNORECASE)
_HEX = re.compile(r"%([0-9A-Fa-f]{2})")


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, what: str) -> FilterError:
        return FilterError(f"filter: {what} at offset {self.pos}: {self.text[self.pos:][:30]!r}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def logic(self) -> str | None:
        self.skip()
        m = _LOGIC.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        word = (m.group(1) or "").upper()
        return "or" if word == "OR" or m.group(0) == "|" else "and"

    def expression(self, depth: int = 0) -> Node:
        if depth > 32:
            raise self.fail("nesting too deep")
        alternatives, conjunction = [], [self.primary(depth)]
        while True:
            self.skip()
            if self.pos >= len(self.text) or self.text[self.pos] == ")":
                break
            op = self.logic()
            if op is None:
                raise self.fail("expected &AND; or &OR;")
            if op == "or":
                alternatives.append(_join(All, conjunction))
                conjunction = []
            conjunction.append(self.primary(depth))
        alternatives.append(_join(All, conjunction))
        return _join(Any_, alternatives)

    def primary(self, depth: int) -> Node:
        self.skip()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            inner = self.expression(depth + 1)
            self.skip()
            if not self.text.startswith(")", self.pos):
                raise self.fail("expected )")
            self.pos += 1
            return inner
        m = _IDENT.match(self.text, self.pos)
        if m is None:
            raise self.fail("expected a property name")
        ident = "LUID" if m.group(0) == "&LUID;" else m.group(0).upper()
        self.pos = m.end()
        self.skip()
        op = _OP.match(self.text, self.pos)
        if op is None:
            raise self.fail("expected a comparison operator")
        self.pos = op.end()
        value = self.value()
        return _term(ident, OPERATORS[op.group(2).upper()], value, bool(op.group(1)))

    def value(self) -> str | None:
        if self.text[self.pos:self.pos + 6].upper() == "&NULL;":
            self.pos += 6
            return None
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in "&|)":
            self.pos += 1
        return _HEX.sub(lambda m: chr(int(m.group(1), 16)), self.text[start:self.pos]).strip()


def _join(kind, parts: list) -> Node:
    return parts[0] if len(parts) == 1 else kind(parts=tuple(parts))


def _term(ident: str, op: str, value: str | None, fold: bool) -> Node:
    if ident in FILTER_KEYWORDS:
        when = parse_time(value or "")
        if when is None or op != "eq":
            raise FilterError(f"filter: {ident} needs &EQ; and a date-time, got {value!r}")
        t = epoch(when)
        return Window(lo=t) if ident == "SINCE" else Window(hi=t)
    return Term(prop=ident, op=op, value=value, fold=fold)


@lru_cache(maxsize=256)
def compile_cgi(text: str) -> Node:
    """The tree of a ``syncml:filtertype-cgi`` expression; FilterError (422) if bad."""
    parser = _Parser(text)
    if not text.strip():
        raise FilterError("filter: empty expression")
    node = parser.expression()
    parser.skip()
    if parser.pos != len(text):
        raise parser.fail("unbalanced )")
    return node


_OPTION = re.compile(r"/([A-Za-z]+)\(")
_DR = re.compile(r"\s*([+-]?\d{1,5})\s*,\s*([+-]?\d{1,5})\s*")


@dataclass(frozen=True, kw_only=True, slots=True)
class UriFilter:
    expression: str | None = None      # CGI text (ANDed parts)
    days: tuple[int, int] | None = None   # /dr(before, after)


def parse_uri_query(query: str) -> UriFilter:
    """The part of a datastore URI after ``?``: SYSYNC options (``/dr(-30,90)``,
    ``/fi(expr)``, ``/tf(expr)``) or, without a leading ``/``, one CGI expression."""
    query = query.strip()
    if not query:
        return UriFilter()
    if not query.startswith("/"):
        compile_cgi(query)
        return UriFilter(expression=query)
    exprs, days, pos = [], None, 0
    while pos < len(query):
        m = _OPTION.match(query, pos)
        if m is None:
            raise FilterError(f"filter: bad URI option at {query[pos:]!r}")
        name, end = m.group(1).lower(), _closing(query, m.end())
        arg = query[m.end():end]
        if name == "dr":
            dm = _DR.fullmatch(arg)
            if dm is None:
                raise FilterError(f"filter: bad date range {arg!r}")
            days = (int(dm.group(1)), int(dm.group(2)))
        elif name in ("fi", "tf"):
            compile_cgi(arg)
            exprs.append(arg)
        else:
            raise FilterError(f"filter: URI option /{name}() not supported", NOT_SUPPORTED)
        pos = end + 1
    expression = "&AND;".join(f"({e})" for e in exprs) if len(exprs) > 1 else (
        exprs[0] if exprs else None)
    return UriFilter(expression=expression, days=days)


def _closing(text: str, start: int) -> int:
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise FilterError(f"filter: unbalanced ( in {text!r}")


def day_window(days: tuple[int, int], now: float) -> tuple[float, float]:
    """``/dr(-30, 90)`` at ``now`` -> [now - 30 days, now + 90 days]."""
    return now + days[0] * _DAY, now + days[1] * _DAY


# -- evaluation ------------------------------------------------------------------------
def epoch(t: CalTime) -> float:
    """Seconds since the epoch; floating and DATE values read as UTC."""
    return (t.value - _EPOCH).total_seconds()


def main_component(comp: Component) -> Component:
    """The VEVENT/VTODO/VJOURNAL inside a VCALENDAR, else the component itself."""
    if comp.name == "VCALENDAR":
        for sub in comp.components:
            if sub.name in ("VEVENT", "VTODO", "VJOURNAL"):
                return sub
    return comp


def evaluate(node: Node, comp: Component) -> bool:
    if isinstance(node, All):
        return all(evaluate(p, comp) for p in node.parts)
    if isinstance(node, Any_):
        return any(evaluate(p, comp) for p in node.parts)
    if isinstance(node, Window):
        return overlaps(comp, node.lo, node.hi)
    return _term_holds(node, comp)


def _values(comp: Component, name: str) -> list[str]:
    out: list[str] = []
    for prop in comp.properties:
        if prop.name == name:
            if name == "CATEGORIES":
                out.extend(v.strip() for v in re.split(r"(?<!\\)[,;]", prop.value) if v.strip())
            else:
                out.append(prop.value)
    return out


def _term_holds(term: Term, comp: Component) -> bool:
    values = [v for v in _values(comp, term.prop) if v.strip()]
    if term.value is None:                      # &NULL;
        empty = not values
        return empty if term.op in ("eq", "con") else not empty
    if term.op == "ne":
        return not any(_compare(term, v, "eq") for v in values)
    if term.op == "ncon":
        return not any(_compare(term, v, "con") for v in values)
    return any(_compare(term, v, term.op) for v in values)


def _compare(term: Term, actual: str, op: str) -> bool:
    wanted = term.value or ""
    if term.prop in DATE_PROPERTIES and op != "con":
        a, w = parse_time(actual), parse_time(wanted)
        if a is not None and w is not None:
            left, right = epoch(a), epoch(w)
            return _ORDER[op](left, right)
    if term.fold:
        actual, wanted = actual.casefold(), wanted.casefold()
    if op == "con":
        return wanted in actual
    return _ORDER[op](actual, wanted)


_ORDER = {"eq": lambda a, b: a == b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
          "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def _time(comp: Component, name: str) -> CalTime | None:
    value = comp.value(name)
    return parse_time(value) if value else None


def span(comp: Component) -> tuple[float, float] | None:
    """[start, end] of an event or task in epoch seconds; None when it has no date."""
    start = _time(comp, "DTSTART")
    end = _time(comp, "DTEND") or _time(comp, "DUE")
    if start is None and end is None:
        return None
    if start is None:
        start = end
    if end is None:
        duration = parse_duration(comp.value("DURATION") or "")
        if duration is not None:
            end = start.shifted(duration)
        elif start.is_date:
            end = start.shifted(timedelta(days=1))
        else:
            end = start
    lo, hi = epoch(start), epoch(end)
    return lo, max(lo, hi)


def overlaps(comp: Component, lo: float | None, hi: float | None) -> bool:
    """True when the item (any occurrence of a recurring one) overlaps [lo, hi]; an
    item without a date (a contact, a note, a task without DUE) is always in range."""
    got = span(comp)
    if got is None:
        return True
    start, end = got
    rule = comp.value("RRULE")
    if rule:
        return occurs_in(rule, start, end - start, lo, hi)
    return (hi is None or start <= hi) and (lo is None or end >= lo)


# -- the filter of one datastore sync --------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class RecordFilter:
    """What a client asked for: an expression and/or a time window, and whether
    items it holds that do not match are to be deleted on it (EXCLUSIVE)."""

    expression: str | None = None
    window: tuple[float | None, float | None] | None = None
    exclusive: bool = False

    def node(self) -> Node | None:
        parts = []
        if self.expression:
            parts.append(compile_cgi(self.expression))
        if self.window is not None:
            parts.append(Window(lo=self.window[0], hi=self.window[1]))
        return _join(All, parts) if parts else None

    def accepts(self, data: bytes) -> bool:
        """Whether an item passes; content we cannot parse passes (it is sent)."""
        node = self.node()
        if node is None:
            return True
        try:
            comp = main_component(parse(data))
        except (ContentError, ValueError, UnicodeError):
            return True
        return evaluate(node, comp)

    def to_dict(self) -> dict:
        return {"expression": self.expression, "exclusive": self.exclusive,
                "window": list(self.window) if self.window is not None else None}

    @classmethod
    def from_dict(cls, raw: dict) -> "RecordFilter":
        window = raw.get("window")
        return cls(expression=raw.get("expression"), exclusive=bool(raw.get("exclusive")),
                   window=tuple(window) if window is not None else None)
