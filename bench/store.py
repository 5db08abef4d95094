"""Throughput of the SQLite store: `.venv/bin/python bench/store.py [--path DIR]`.

Prints one table: bulk adds in one transaction (one SyncML message is up to ~1000 items),
changes_since / list_items / put_mappings over 20,000 rows, and small one-item transactions.
The database is a file in a temporary directory (WAL, synchronous=NORMAL), as in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.store.sqlite.store import SQLiteStore

VCARD = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe{n};John;;;\r\nFN:John Doe{n}\r\n"
    "TEL;CELL:+1555010{n:04d}\r\nTEL;WORK;VOICE:+1555020{n:04d}\r\n"
    "EMAIL;INTERNET:john.doe{n}@example.org\r\nORG:Example Corp\r\nTITLE:Engineer\r\n"
    "ADR;HOME:;;1 Main Street;Springfield;;12345;USA\r\n"
    "NOTE:Met at the conference; likes long walks and short meetings.\r\n"
    "UID:uid-{n}\r\nREV:20240101T000000Z\r\nEND:VCARD\r\n"
)


def vcard(n: int) -> bytes:
    return VCARD.format(n=n).encode("ascii")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(folder: Path) -> list[tuple[str, int, float, str]]:
    rows = []
    store = SQLiteStore(folder / "bench.sqlite")
    try:
        for count in (1_000, 20_000):
            ds = f"contacts{count}"

            def add_many(ds=ds, count=count):
                with store.transaction() as tx:
                    for n in range(count):
                        tx.add_item("alice", ds, data=vcard(n), content_type="text/x-vcard",
                                    uid=f"uid-{n}", changed_by="IMEI:1", now=1.0)
            rows.append((f"add_item x{count} (one transaction)", count, timed(add_many), "items/s"))

        big = "contacts20000"
        out: list = []

        def changes():
            with store.transaction() as tx:
                out[:] = tx.changes_since("alice", big, 0)
        rows.append(("changes_since over 20,000", 20_000, timed(changes), "changes/s"))
        assert len(out) == 20_000

        def listing():
            with store.transaction() as tx:
                out[:] = list(tx.list_items("alice", big))
        rows.append(("list_items over 20,000", 20_000, timed(listing), "items/s"))
        assert len(out) == 20_000

        guids = [c.guid for c in store_changes(store, big)]

        def mappings():
            with store.transaction() as tx:
                tx.put_mappings("IMEI:1", "alice", big, ((str(n), g) for n, g in enumerate(guids)))
        rows.append(("put_mappings 20,000 pairs", 20_000, timed(mappings), "pairs/s"))

        def get_map():
            with store.transaction() as tx:
                out[:] = tx.get_map("IMEI:1", "alice", big).items()
        rows.append(("get_map of 20,000 pairs", 20_000, timed(get_map), "pairs/s"))

        def replace_many():
            with store.transaction() as tx:
                for n, guid in enumerate(guids[:1000]):
                    tx.replace_item("alice", big, guid, data=vcard(n + 1), content_type="text/x-vcard")
        rows.append(("replace_item x1000 (one transaction)", 1000, timed(replace_many), "items/s"))

        small = 2_000

        def small_transactions():
            for n in range(small):
                with store.transaction() as tx:
                    tx.add_item("bob", "contacts", data=vcard(n), content_type="text/x-vcard")
        rows.append(("one-item transactions", small, timed(small_transactions), "transactions/s"))

        def delete_all():
            with store.transaction() as tx:
                tx.delete_all("alice", big)
        rows.append(("delete_all over 20,000", 20_000, timed(delete_all), "items/s"))
    finally:
        store.close()
    return rows


def store_changes(store: SQLiteStore, ds: str):
    with store.transaction() as tx:
        return tx.changes_since("alice", ds, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, help="folder for the database (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.path:
        args.path.mkdir(parents=True, exist_ok=True)
        rows = bench(args.path)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = bench(Path(tmp))
    print(f"{'operation':<40} {'count':>7} {'seconds':>8} {'rate':>12}  unit")
    for name, count, seconds, unit in rows:
        print(f"{name:<40} {count:>7} {seconds:>8.3f} {count / seconds:>12,.0f}  {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
