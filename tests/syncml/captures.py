"""The real captures under ../shared/fixtures: where they are and how to list them."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from gateway.syncml.tree import Element

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("OMADS_SHARED", REPO.parent / "shared"))
FIXTURES = SHARED / "fixtures"


def wbxml_captures() -> list[Path]:
    return sorted(FIXTURES.rglob("*.wbxml"))


def xml_captures() -> list[Path]:
    """Raw XML messages (not the .decoded.xml renderings of WBXML captures)."""
    return sorted(p for p in FIXTURES.rglob("*.xml") if not p.name.endswith(".decoded.xml"))


def all_captures() -> list[Path]:
    return wbxml_captures() + xml_captures()


def ident(p: Path) -> str:
    return str(p.relative_to(FIXTURES))


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
