"""The real captures under tests/fixtures (tests/support/locations.py): how to list them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gateway.syncml.tree import Element
from tests.support.locations import FIXTURES, REPO, captures, ident  # noqa: F401  (re-exported)


def wbxml_captures() -> list[Path]:
    return captures("**/*.wbxml")


def xml_captures() -> list[Path]:
    """Raw XML messages (not the .decoded.xml renderings of WBXML captures)."""
    return [p for p in captures("**/*.xml") if not p.name.endswith(".decoded.xml")]


def all_captures() -> list[Path]:
    return wbxml_captures() + xml_captures()


def textual(obj):
    """The model with opaque bytes read as text (XML carries no opaque data)."""
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "surrogateescape")
    if isinstance(obj, tuple):
        return tuple(textual(x) for x in obj)
    if isinstance(obj, Element):
        return Element(obj.tag, obj.ns, [textual(c) for c in obj.children], textual(obj.text))
    if dataclasses.is_dataclass(obj):
        return dataclasses.replace(obj, **{f.name: textual(getattr(obj, f.name))
                                           for f in dataclasses.fields(obj) if f.init})
    return obj
