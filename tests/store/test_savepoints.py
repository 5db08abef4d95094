"""Savepoints of the SQLite store transaction (savepoint / release / rollback_to)."""

from __future__ import annotations

import pytest

from gateway.store.base import StoreError
from gateway.store.sqlite.store import SQLiteStore


@pytest.fixture
def store(tmp_path):
    st = SQLiteStore(tmp_path / "gw.db")
    yield st
    st.close()


def _add(tx, text: str, ds: str = "contacts"):
    return tx.add_item("alice", ds, data=text.encode(), content_type="text/plain",
                       changed_by="dev", now=1.0)


def _state(tx, ds: str = "contacts"):
    return ([bytes(i.data) for i in tx.list_items("alice", ds)],
            tx.get_map("dev", "alice", ds), tx.current_rev("alice", ds))


def test_rollback_to_undoes_items_maps_and_revisions(store):
    with store.transaction() as tx:
        kept = _add(tx, "kept")
        tx.put_mappings("dev", "alice", "contacts", [("l1", kept.guid)])
        before = _state(tx)
        tx.savepoint("a")
        gone = _add(tx, "gone")
        tx.put_mappings("dev", "alice", "contacts", [("l2", gone.guid)])
        tx.remove_mappings("dev", "alice", "contacts", ["l1"])
        tx.delete_item("alice", "contacts", kept.guid)
        tx.rollback_to("a")
        assert _state(tx) == before
        assert tx.changes_since("alice", "contacts", before[2]) == []
        tx.release("a")
    with store.transaction() as tx:
        assert _state(tx) == before


def test_release_keeps_the_changes(store):
    with store.transaction() as tx:
        tx.savepoint("a")
        item = _add(tx, "x")
        tx.release("a")
    with store.transaction() as tx:
        assert tx.get_item("alice", "contacts", item.guid) is not None


def test_a_datastore_made_after_the_savepoint_is_forgotten_on_rollback(store):
    """The store caches datastore row ids; one made inside the savepoint must not
    survive it (the next add would use a row that no longer exists)."""
    with store.transaction() as tx:
        tx.savepoint("a")
        _add(tx, "first", ds="notes")
        tx.rollback_to("a")
        assert _state(tx, "notes") == ([], {}, 0)
        item = _add(tx, "second", ds="notes")
        tx.release("a")
    with store.transaction() as tx:
        assert [bytes(i.data) for i in tx.list_items("alice", "notes")] == [b"second"]
        assert tx.get_item("alice", "notes", item.guid) is not None
        assert tx.current_rev("alice", "notes") == 1


def test_nested_savepoints_and_rolling_back_twice(store):
    with store.transaction() as tx:
        tx.savepoint("outer")
        _add(tx, "o")
        tx.savepoint("inner")
        _add(tx, "i")
        tx.rollback_to("inner")
        assert _state(tx)[0] == [b"o"]
        _add(tx, "i2")
        tx.rollback_to("inner")                 # the savepoint stays after a rollback
        assert _state(tx)[0] == [b"o"]
        tx.rollback_to("outer")                 # and an outer one undoes the inner ones
        assert _state(tx)[0] == []
        tx.release("outer")
        with pytest.raises(StoreError):
            tx.rollback_to("inner")             # released with the outer one
    with store.transaction() as tx:
        assert _state(tx) == ([], {}, 0)


def test_release_of_the_outer_one_keeps_inner_changes(store):
    with store.transaction() as tx:
        tx.savepoint("outer")
        tx.savepoint("inner")
        _add(tx, "x")
        tx.release("outer")
    with store.transaction() as tx:
        assert _state(tx)[0] == [b"x"]


@pytest.mark.parametrize("name", ["", "1abc", 'a"; DROP TABLE items; --', "a b", 7])
def test_bad_names_are_refused(store, name):
    with store.transaction() as tx:
        with pytest.raises(StoreError):
            tx.savepoint(name)
        _add(tx, "still usable")
    with store.transaction() as tx:
        assert _state(tx)[0] == [b"still usable"]


def test_unknown_savepoint_is_a_store_error(store):
    with store.transaction() as tx:
        with pytest.raises(StoreError):
            tx.rollback_to("never")
        with pytest.raises(StoreError):
            tx.release("never")


def test_savepoints_left_open_are_committed_with_the_transaction(store):
    with store.transaction() as tx:
        tx.savepoint("a")
        _add(tx, "x")
    with store.transaction() as tx:
        assert _state(tx)[0] == [b"x"]


def test_savepoints_roll_back_with_a_failed_transaction(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.savepoint("a")
            _add(tx, "x")
            tx.release("a")
            raise RuntimeError("boom")
    with store.transaction() as tx:
        assert _state(tx) == ([], {}, 0)
