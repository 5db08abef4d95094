"""``omads-admin db backup OUT``: a consistent copy of the database while the gateway runs
(the store's online backup: the daemon keeps reading and writing meanwhile). OUT must not
exist; the copy is written beside it and renamed into place when complete."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from gateway.admin.errors import CommandError
from gateway.store.base import StoreError

__all__ = ["ACTIONS", "add_commands", "run"]

ACTIONS = ("backup",)


def add_commands(db: Any) -> None:
    p = db.add_parser("backup", help="copy the database consistently (the gateway may run)")
    p.add_argument("output", metavar="OUT")


def run(args: Any, store: Any, out: IO[str]) -> None:
    target = Path(args.output)
    if target.exists():
        raise CommandError(f"{target} exists; give a new file name")
    backup = getattr(store, "backup", None)
    if backup is None:
        raise CommandError(f"{type(store).__name__} cannot be backed up by omads-admin")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        backup(partial)
        partial.replace(target)
    except (OSError, StoreError) as e:
        partial.unlink(missing_ok=True)
        raise CommandError(f"backup to {target} failed: {e}") from None
    print(f"backed up the database to {target} ({target.stat().st_size} bytes)", file=out)
