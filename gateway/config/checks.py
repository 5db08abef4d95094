"""The one set of validators every section parser uses.

A ``Checker`` collects problems while the sections are read, so one ``ConfigError`` lists
them all. ``checker.section(doc, where, keys)`` checks that a table is a table and has
only known keys, and returns a ``Section`` whose ``get(key, default, check)`` returns the
value when ``check`` passes, else records the problem and returns the default.

A check is a function ``value -> problem text | None``; the factories below make them.
Problems read ``<where> <key> <problem> (got <value>)``, e.g.
``[notify] max_attempts must be an integer between 1 and 100 (got 0)``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from gateway.config.endpoints import check_endpoint

__all__ = [
    "Check", "Checker", "Section", "text", "optional_text", "boolean", "integer", "seconds",
    "one_of", "list_of", "url", "hostport", "endpoint", "endpoint_list", "predicate",
]

Check = Callable[[Any], "str | None"]


class Section:
    """One table being read: ``where`` names it in problems, ``prefix`` starts each
    problem about one of its keys (``"[http] "``, ``"[[user]] #2: "``)."""

    def __init__(self, checker: "Checker", values: dict[str, Any], where: str, prefix: str):
        self.checker = checker
        self.values = values
        self.where = where
        self.prefix = prefix

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as written, unchecked (for sub-tables and arrays of tables)."""
        return self.values.get(key, default)

    def get(self, key: str, default: Any, check: Check) -> Any:
        """The value of ``key`` if present and valid; else ``default`` (a bad value is a
        problem, a missing one is not)."""
        if key not in self.values:
            return default
        value = self.values[key]
        err = check(value)
        if err is not None:
            self.problem(f"{key} {err} (got {value!r})")
            return default
        return value

    def require(self, *keys: str) -> None:
        """Each missing key is a problem."""
        for key in keys:
            if key not in self.values:
                self.problem(f"{key} is required")

    def problem(self, text: str) -> None:
        self.checker.problem(self.prefix + text)


class Checker:
    """Collects the problems of one configuration."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def section(self, doc: Any, where: str, keys: Iterable[str], *,
                prefix: str | None = None) -> Section:
        """``doc`` as a table with only ``keys`` (``{}`` if it is not a table)."""
        if not isinstance(doc, dict):
            self.problem(f"{where} must be a table")
            doc = {}
        allowed = set(keys)
        for key in doc:
            if key not in allowed:
                self.problem(f"{where}: unknown key {key!r}")
        return Section(self, doc, where, where + " " if prefix is None else prefix)

    def tables(self, doc: Any, where: str) -> list[Any]:
        """An array of tables (``[[user]]``); absent is empty, anything else a problem."""
        if doc is None:
            return []
        if not isinstance(doc, list):
            self.problem(f"{where} must be one or more tables")
            return []
        return doc


# -- checks ------------------------------------------------------------------------------

def predicate(ok: Callable[[Any], bool], problem: str) -> Check:
    """A check from a test and the text saying what the value must be."""
    return lambda v: None if ok(v) else problem


def text(v: Any) -> str | None:
    """A non-empty string."""
    if not isinstance(v, str):
        return "must be a string"
    return None if v.strip() else "must not be empty"


def optional_text(v: Any) -> str | None:
    """Any string, empty included."""
    return None if isinstance(v, str) else "must be a string"


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def integer(lo: int, hi: int | None = None) -> Check:
    """An integer within ``lo..hi`` (``hi`` None: no upper bound); true/false are not."""
    what = f"must be an integer between {lo} and {hi}" if hi is not None \
        else f"must be an integer >= {lo}"

    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return what
        return None if lo <= v and (hi is None or v <= hi) else what
    return check


def seconds(*, zero_ok: bool = False) -> Check:
    """A number of seconds, > 0 (or >= 0 with ``zero_ok``)."""
    what = "must be a number of seconds" + (" >= 0" if zero_ok else " > 0")

    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return what
        return None if v > 0 or (zero_ok and v == 0) else what
    return check


def one_of(choices: Iterable[str]) -> Check:
    names = tuple(choices)
    return predicate(lambda v: isinstance(v, str) and v in names,
                     "must be one of " + ", ".join(names))


def list_of(item: Check, *, nonempty: bool = False, what: str = "a list") -> Check:
    """A list whose every entry passes ``item``."""
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"must be {what}"
        if nonempty and not v:
            return "must not be empty"
        for x in v:
            err = item(x)
            if err is not None:
                return f"entry {x!r} {err}"
        return None
    return check


def url(v: Any) -> str | None:
    """An absolute http(s) URL without a query."""
    if isinstance(v, str) and v.startswith(("http://", "https://")) and "?" not in v:
        return None
    return "must be an http:// or https:// URL without a query"


def hostport(v: Any) -> str | None:
    if isinstance(v, str) and v.rpartition(":")[2].isdigit() and v.rpartition(":")[0]:
        return None
    return "must be HOST:PORT"


def endpoint(v: Any) -> str | None:
    """A Twisted server endpoint string (gateway/config/endpoints.py)."""
    return check_endpoint(v)


def endpoint_list(v: Any) -> str | None:
    """A non-empty list of endpoint strings; the first bad one is the problem."""
    if not isinstance(v, list) or not v:
        return "must be a non-empty list of endpoint strings"
    for desc in v:
        err = check_endpoint(desc)
        if err is not None:
            return err
    return None
