"""sqlite3 errors as StoreErrors, and the wrapper every SQLite transaction operation
wears (``sqlite_tx.py``, ``sqlite_maps.py``)."""

from __future__ import annotations

import functools
import sqlite3
from typing import Any, Callable, TypeVar

from gateway.store.base import StoreError, StoreFull

__all__ = ["operation", "store_error"]

F = TypeVar("F", bound=Callable[..., Any])


def store_error(exc: sqlite3.Error) -> StoreError:
    """The StoreError for an sqlite3 error (SQLITE_FULL becomes StoreFull)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == sqlite3.SQLITE_FULL:
        return StoreFull(f"SQLite database is full: {exc}")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(f"SQLite database stayed locked past the busy timeout: {exc}")
    return StoreError(f"SQLite error: {exc}")


def operation(method: F) -> F:
    """Refuse use outside a live transaction (``self._check()``); turn sqlite3 errors
    into StoreErrors."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._check()
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
    return wrapper  # type: ignore[return-value]
