"""How ``omads-admin`` prints: tab-separated lines, or JSON with ``--json``."""

from __future__ import annotations

import json
import time
from typing import IO, Any

__all__ = ["when", "print_json"]


def when(t: float | None) -> str:
    if t is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def print_json(value: Any, out: IO[str]) -> None:
    json.dump(value, out, indent=2, sort_keys=True, default=str)
    out.write("\n")
