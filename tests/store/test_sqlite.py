"""SQLiteStore: the conformance suite, plus what only SQLite has (WAL, schema files,
restart, threads, guids, SQLITE_FULL)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from gateway.store import schema
from gateway.store.base import StoreError, StoreFull, status_for
from gateway.store.sqlite.store import SQLiteStore, guid_for, id_for
from tests.store.conformance import CT, VCARD, StoreConformance, add


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "gateway.sqlite"


@pytest.fixture
def store(db_path):
    s = SQLiteStore(db_path)
    yield s
    s.close()


class TestSQLiteConformance(StoreConformance):
    pass


def raw(path):
    """A plain sqlite3 connection to look at the file from outside the store."""
    return sqlite3.connect(path, isolation_level=None)


# -- connection settings and schema ----------------------------------------------------
def test_wal_mode_and_pragmas(store, db_path):
    conn = raw(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    own = store._thread_connection().conn
    assert own.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert own.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_schema_version_recorded(store, db_path):
    steps = schema.load_steps("sqlite")
    conn = raw(db_path)
    rows = conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    conn.close()
    assert rows == [(s.version, s.name) for s in steps]
    assert store.schema_version == steps[-1].version == len(steps)


def test_reopen_keeps_data_and_sessions(db_path):
    """A daemon restart mid-session: the saved session state and items survive."""
    first = SQLiteStore(db_path)
    with first.transaction() as tx:
        item = add(tx, uid="U")
        tx.put_mappings("dev", "alice", "contacts", [("5", item.guid)])
        tx.save_session("sess-1", b"\x80state\x00blob", expires=1e12)
    first.close()
    second = SQLiteStore(db_path)
    try:
        with second.transaction() as tx:
            assert tx.load_session("sess-1") == b"\x80state\x00blob"
            assert tx.get_item("alice", "contacts", item.guid) == item
            assert tx.get_map("dev", "alice", "contacts") == {"5": item.guid}
            later = add(tx)
            assert later.rev > item.rev and later.guid != item.guid
        conn = raw(db_path)
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(
            schema.load_steps("sqlite"))
        conn.close()
    finally:
        second.close()


def test_upgrade_from_step_1_keeps_items_without_fingerprints(db_path):
    """A database made before step 2: its items survive the upgrade with no fingerprint."""
    conn = raw(db_path)
    schema.upgrade_sqlite(conn, schema.load_steps("sqlite")[:1])
    conn.execute("INSERT INTO datastores (id, username, name, rev) VALUES (1, 'alice', 'contacts', 1)")
    conn.execute("INSERT INTO items (id, ds_id, rev, content_type, data) VALUES (7, 1, 1, ?, ?)",
                 (CT, VCARD))
    conn.close()
    s = SQLiteStore(db_path)
    try:
        assert s.schema_version == len(schema.load_steps("sqlite"))
        with s.transaction() as tx:
            [old] = tx.list_items_without_fingerprint("alice", "contacts")
            assert old.guid == guid_for(7) and old.data == VCARD
            tx.set_fingerprints("alice", "contacts", [(old.guid, "fp")])
            assert tx.find_by_fingerprint("alice", "contacts", "fp") == [old.guid]
            assert tx.list_items_without_fingerprint("alice", "contacts") == []
    finally:
        s.close()


def test_newer_schema_refused(db_path):
    SQLiteStore(db_path).close()
    conn = raw(db_path)
    conn.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future')")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(db_path)
    conn = raw(db_path)  # the refused file was left as it was
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 999
    conn.close()


def test_upgrade_steps_apply_in_one_transaction(db_path):
    conn = sqlite3.connect(db_path, isolation_level=None)
    good = schema.Step(version=1, name="one", sql="CREATE TABLE t1 (x); INSERT INTO t1 VALUES ('a;b');")
    bad = schema.Step(version=2, name="two", sql="CREATE TABLE t2 (y); INSERT INTO nowhere VALUES (1);")
    with pytest.raises(sqlite3.OperationalError):
        schema.upgrade_sqlite(conn, [good, bad])
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "t1" not in tables and "t2" not in tables
    assert schema.upgrade_sqlite(conn, [good]) == 1
    fixed = schema.Step(version=2, name="two", sql="CREATE TABLE t2 (y);")
    assert schema.upgrade_sqlite(conn, [good, fixed]) == 2  # only step 2 runs now
    assert conn.execute("SELECT x FROM t1").fetchall() == [("a;b",)]
    assert conn.execute("SELECT version, name FROM schema_version").fetchall() == [(1, "one"), (2, "two")]
    conn.close()


def test_split_statements_keeps_triggers_and_strings_whole():
    sql = """-- a comment; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'p;q');
CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'r'; DELETE FROM a WHERE 0; END;
-- trailing comment
"""
    parts = schema.split_statements(sql)
    assert len(parts) == 2
    assert parts[0].endswith("DEFAULT 'p;q');")
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
    with pytest.raises(StoreError):
        schema.split_statements("CREATE TABLE a (x); CREATE TABLE b (y)")  # no final ";"


def test_steps_must_be_numbered_without_gaps():
    with pytest.raises(StoreError):
        schema.check_steps([schema.Step(version=1, name="a", sql=""), schema.Step(version=3, name="c", sql="")])
    with pytest.raises(StoreError, match="newer"):
        schema.pending_steps(2, [schema.Step(version=1, name="a", sql="")])


def test_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not an SQLite file" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(path)
    with pytest.raises(StoreError):
        SQLiteStore(tmp_path / "missing-dir" / "x.sqlite")


# -- transactions -------------------------------------------------------------------------
def test_nested_transaction_is_refused(store):
    with pytest.raises(StoreError, match="nested"):
        with store.transaction() as tx:
            add(tx)
            with store.transaction():
                pass
    with store.transaction() as tx:  # the outer one rolled back; the store still works
        assert tx.count_items("alice", "contacts") == 0
        add(tx)


def test_transaction_object_dead_after_block(store):
    with store.transaction() as tx:
        add(tx)
        items = tx.list_items("alice", "contacts")
    with pytest.raises(StoreError):
        tx.count_items("alice", "contacts")
    with pytest.raises(StoreError):
        list(items)


def test_closed_store_refuses_transactions(db_path):
    s = SQLiteStore(db_path)
    s.close()
    with pytest.raises(StoreError, match="closed"):
        with s.transaction():
            pass


def test_database_full_is_store_full(store):
    store._thread_connection().conn.execute("PRAGMA max_page_count = 64")
    with pytest.raises(StoreFull) as info:
        with store.transaction() as tx:
            add(tx, data=b"x" * 1024 * 1024)
    assert status_for(info.value) == 420


def test_rollback_by_sqlite_itself_is_never_half_committed(store):
    """SQLite may cancel a whole transaction after SQLITE_FULL/IOERR; later calls must not
    run in autocommit mode, and the block must not end as if it had committed."""
    with pytest.raises(StoreError, match="rolled the transaction back"):
        with store.transaction() as tx:
            add(tx)
            store._thread_connection().conn.execute("ROLLBACK")  # what SQLite may do on its own
            with pytest.raises(StoreError, match="rolled the transaction back"):
                add(tx)
    with pytest.raises(StoreError, match="rolled the transaction back"):
        with store.transaction() as tx:
            add(tx)
            store._thread_connection().conn.execute("ROLLBACK")
    with store.transaction() as tx:
        assert tx.count_items("alice", "contacts") == 0 and tx.current_rev("alice", "contacts") == 0


def test_busy_past_timeout_is_store_error(db_path):
    s = SQLiteStore(db_path, busy_timeout=0.05)
    blocker = raw(db_path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="locked"):
            with s.transaction():
                pass
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        s.close()


# -- threads --------------------------------------------------------------------------
def _run_threads(target, count):
    errors = []

    def guarded(n):
        try:
            target(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_concurrent_writers_all_succeed(db_path, shared):
    per_thread, txs = 4, 25
    stores = [SQLiteStore(db_path)] * per_thread if shared else [SQLiteStore(db_path) for _ in range(per_thread)]
    made: list[list[str]] = [[] for _ in range(per_thread)]

    def write(n):
        for k in range(txs):
            with stores[n].transaction() as tx:
                made[n].append(add(tx, data=b"thread %d item %d" % (n, k)).guid)
                made[n].append(add(tx, data=b"thread %d item %d b" % (n, k)).guid)
    try:
        _run_threads(write, per_thread)
        with stores[0].transaction() as tx:
            changes = tx.changes_since("alice", "contacts", 0)
            revs = [c.rev for c in changes]
            assert revs == list(range(1, 2 * per_thread * txs + 1))
            assert {c.guid for c in changes} == {g for guids in made for g in guids}
            assert tx.count_items("alice", "contacts") == 2 * per_thread * txs
            for guids in made:  # each transaction's two adds got adjacent revisions
                pairs = [(tx.get_item("alice", "contacts", guids[i]).rev,
                          tx.get_item("alice", "contacts", guids[i + 1]).rev) for i in range(0, len(guids), 2)]
                assert all(b == a + 1 for a, b in pairs)
    finally:
        for s in set(stores):
            s.close()


def test_each_thread_gets_its_own_connection(store):
    seen = []

    def grab(_):
        seen.append(store._thread_connection().conn)
        with store.transaction() as tx:
            tx.count_items("alice", "contacts")
    _run_threads(grab, 3)
    mine = store._thread_connection().conn
    assert len({id(c) for c in seen}) == 3 and all(c is not mine for c in seen)


def test_memory_store_refuses_other_threads():
    s = SQLiteStore(":memory:")
    try:
        with s.transaction() as tx:
            item = add(tx)
            assert tx.get_item("alice", "contacts", item.guid) == item
        failures = []

        def other(_):
            try:
                with s.transaction():
                    pass
            except StoreError as exc:
                failures.append(exc)
        _run_threads(other, 1)
        assert len(failures) == 1
    finally:
        s.close()


# -- guids ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 9, 10, 99, 100, 12345, 10**18])
def test_guid_encoding_round_trips(n):
    assert id_for(guid_for(n)) == n


def test_guid_text_order_is_numeric_order():
    numbers = [1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 123456789]
    assert sorted(numbers, key=guid_for) == numbers


@pytest.mark.parametrize("junk", ["", "a", "b1", "a0", "b01", "x12", "a-1", "b1²", "a١", "A1", "c12 "])
def test_foreign_guids_are_not_ours(junk):
    assert id_for(junk) is None


def test_guids_stable_across_restart(db_path):
    s = SQLiteStore(db_path)
    with s.transaction() as tx:
        items = [add(tx, user, data=b"%s %d" % (user.encode(), n)) for user in ("alice", "bob")
                 for n in range(15)]
        tx.delete_item("alice", "contacts", items[14].guid)
    s.close()
    s = SQLiteStore(db_path)
    try:
        with s.transaction() as tx:
            for item in items[:14] + items[15:]:
                user = "alice" if item.data.startswith(b"alice") else "bob"
                assert tx.get_item(user, "contacts", item.guid) == item
            fresh = add(tx)
            assert fresh.guid not in {i.guid for i in items}
            assert fresh.content_type == CT and fresh.data == VCARD
    finally:
        s.close()


def test_query_plans_use_indexes(store):
    conn = store._thread_connection().conn
    plans = {
        "changes_since": ("SELECT id, rev, deleted, changed_by FROM items WHERE ds_id = ? AND rev > ?"
                          " ORDER BY rev", (1, 5)),
        "find_by_uid": ("SELECT id FROM items WHERE ds_id = ? AND uid = ? AND deleted = 0 ORDER BY id LIMIT 1",
                        (1, "u")),
        "list_items": ("SELECT id FROM items WHERE ds_id = ? AND deleted = 0 AND id > ? ORDER BY id LIMIT ?",
                       (1, 0, 500)),
        "count_items": ("SELECT count(*) FROM items WHERE ds_id = ? AND deleted = 0", (1,)),
        "get_map": ("SELECT luid, guid FROM id_maps WHERE device_id = ? AND ds_id = ?", ("d", 1)),
        "get_map luid": ("SELECT guid FROM id_maps WHERE device_id = ? AND ds_id = ? AND luid = ?",
                         ("d", 1, "l")),
        "list_guids": ("SELECT id FROM items WHERE ds_id = ? AND deleted = 0 AND id > ? ORDER BY id"
                       " LIMIT ?", (1, 0, -1)),
        "find_by_fingerprint": ("SELECT id FROM items WHERE ds_id = ? AND fingerprint = ?"
                                " AND deleted = 0 ORDER BY id", (1, "f")),
        "list_items_without_fingerprint": ("SELECT id FROM items WHERE ds_id = ? AND fingerprint"
                                           " IS NULL AND deleted = 0 ORDER BY id LIMIT ?", (1, 5)),
    }
    for name, (sql, params) in plans.items():
        plan = " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert plan.startswith("SEARCH") and "USING" in plan and "TEMP B-TREE" not in plan, (name, plan)
