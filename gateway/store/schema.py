"""The SQL schema as numbered files, and the upgrade that applies them.

Each dialect keeps its steps in ``schema/<dialect>/NNN_name.sql`` (package data, read with
``importlib.resources``). Step N upgrades a database from version N-1 to N. At start the
store applies every step above the database's version in one transaction and records each
applied step in ``schema_version``; a database newer than the newest step is refused.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

from gateway.store.base import StoreError

_STEP_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

VERSION_TABLE = "schema_version"


@dataclass(frozen=True, kw_only=True)
class Step:
    version: int
    name: str
    sql: str


def load_steps(dialect: str) -> list[Step]:
    """The steps of one dialect in version order; they must be numbered 1, 2, 3..."""
    folder = resources.files("gateway.store") / "schema" / dialect
    if not folder.is_dir():
        raise StoreError(f"no schema files for dialect {dialect!r}")
    steps = []
    for entry in folder.iterdir():
        match = _STEP_NAME.match(entry.name)
        if match:
            steps.append(Step(version=int(match[1]), name=match[2],
                              sql=entry.read_text(encoding="utf-8")))
    steps.sort(key=lambda s: s.version)
    check_steps(steps)
    return steps


def check_steps(steps: Sequence[Step]) -> None:
    numbers = [s.version for s in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise StoreError(f"schema steps must be numbered 1..n without gaps, got {numbers}")


def pending_steps(current: int, steps: Sequence[Step]) -> list[Step]:
    """The steps still to apply to a database at version ``current``."""
    latest = steps[-1].version if steps else 0
    if current > latest:
        raise StoreError(
            f"the database has schema version {current}, newer than the newest this "
            f"gateway knows ({latest}); run a newer omads-gateway on it or restore a backup")
    if current < 0:
        raise StoreError(f"the database has an invalid schema version {current}")
    return [s for s in steps if s.version > current]


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (triggers and quoted ';' stay whole)."""
    statements = []
    buffer = ""
    *pieces, tail = sql.split(";")
    for piece in pieces:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if _has_code(buffer):
                statements.append(buffer.strip())
            buffer = ""
    if _has_code(buffer + tail):
        raise StoreError(f"unterminated SQL statement in a schema step: {(buffer + tail).strip()[:60]!r}")
    return statements


def _has_code(text: str) -> bool:
    lines = (line.split("--", 1)[0] for line in text.splitlines())
    return any(line.strip(" \t;") for line in lines)


def upgrade_sqlite(conn: sqlite3.Connection, steps: Sequence[Step]) -> int:
    """Bring an SQLite database (a connection in autocommit mode) to the newest step, in
    one transaction; returns the version it ends at."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
                     "version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        (current,) = conn.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()
        for step in pending_steps(current, steps):
            for statement in split_statements(step.sql):
                conn.execute(statement)
            conn.execute(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (?, ?)",
                         (step.version, step.name))
            current = step.version
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return current
