"""The notify feature's hooks (see gateway/extensions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECTION = "notify"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """[notify] in the configuration."""


def parse(checker: Any, doc: Any) -> Settings:
    checker.table(doc, "[notify]", set())
    return Settings()


def make_services(settings: Any, *, reactor: Any, store: Any, engine: Any, run: Any) -> list:
    return []


def add_admin_commands(device_subparsers: Any) -> None:
    return None


def run_admin(args: Any, store: Any, out: Any) -> bool:
    return False
