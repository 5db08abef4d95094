"""The configuration file (TOML) parsed by a pure function into typed, validated settings.

Every error in a file is collected, so that one message lists them all before twistd
daemonizes. Unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """One or more problems in a configuration; ``problems`` lists each one."""

    def __init__(self, problems: list[str], source: str = "configuration"):
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems) if len(problems) == 1 else
                         f"{source} has {len(problems)} problems:\n" +
                         "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The validated configuration."""

    source: str = "<defaults>"
    log_level: str = "info"
    extra: dict[str, Any] = field(default_factory=dict)


_TOP_KEYS = {"log_level"}


def parse_settings(doc: dict[str, Any], *, source: str = "<config>") -> Settings:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(f"unknown key {key!r}")
    level = doc.get("log_level", "info")
    if level not in {"debug", "info", "warn", "error"}:
        problems.append(f"log_level must be one of debug, info, warn, error (got {level!r})")
    if problems:
        raise ConfigError(problems, source)
    return Settings(source=source, log_level=level)


def load_settings(path: str | Path) -> Settings:
    """Read and validate a TOML file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ConfigError([f"cannot read: {e.strerror or e}"], str(p)) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"not valid TOML: {e}"], str(p)) from None
    return parse_settings(doc, source=str(p))
