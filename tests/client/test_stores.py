"""The local stores (folder, SQLite, memory): change detection by content hash."""

from __future__ import annotations

import pytest

from gateway.client.folder import FolderStore
from gateway.client.memory_store import MemoryStore
from gateway.client.sqlite_store import SQLiteItemStore
from gateway.ds.client.errors import LocalStoreError
from gateway.ds.client.store import ADDED, DELETED, MODIFIED


def kinds(store) -> dict[str, str]:
    return {c.luid: c.kind for c in store.changes()}


class FolderRig:
    def __init__(self, tmp_path):
        self.store = FolderStore(tmp_path / "f")

    def user_put(self, luid, data):
        (self.store.path / luid).write_bytes(data)

    def user_remove(self, luid):
        (self.store.path / luid).unlink()

    def reopen(self):
        self.store.flush()
        self.store = FolderStore(self.store.path)


class SQLiteRig:
    def __init__(self, tmp_path):
        self.path = tmp_path / "s.db"
        self.store = SQLiteItemStore(self.path)

    def user_put(self, luid, data):
        self.store.put(luid, data)

    def user_remove(self, luid):
        self.store.remove(luid)

    def reopen(self):
        self.store.close()
        self.store = SQLiteItemStore(self.path)


class MemoryRig:
    def __init__(self, tmp_path):
        self.store = MemoryStore()

    def user_put(self, luid, data):
        self.store.items[luid] = data

    def user_remove(self, luid):
        del self.store.items[luid]

    def reopen(self):
        pass


@pytest.fixture(params=[FolderRig, SQLiteRig, MemoryRig], ids=["folder", "sqlite", "memory"])
def rig(request, tmp_path):
    return request.param(tmp_path)


def test_change_detection_by_content(rig):
    rig.user_put("a.vcf", b"A1")
    rig.user_put("b.vcf", b"B1")
    assert kinds(rig.store) == {"a.vcf": ADDED, "b.vcf": ADDED}
    rig.store.mark_synced("a.vcf")
    rig.store.mark_synced("b.vcf")
    rig.reopen()                                  # the synced record survives a restart
    assert kinds(rig.store) == {}
    rig.user_put("a.vcf", b"A2")
    rig.user_remove("b.vcf")
    rig.user_put("a.vcf", b"A2")                  # same content twice: one modification
    assert kinds(rig.store) == {"a.vcf": MODIFIED, "b.vcf": DELETED}
    rig.store.forget("b.vcf")
    rig.store.mark_synced("a.vcf")
    assert kinds(rig.store) == {}
    rig.user_put("a.vcf", b"A1")                  # back to an old content is a change too
    assert kinds(rig.store) == {"a.vcf": MODIFIED}


def test_server_writes_are_not_local_changes(rig):
    luid = rig.store.add(b"from server", "text/vcard")
    assert rig.store.read(luid) == b"from server"
    assert rig.store.replace(luid, b"updated", "text/vcard")
    assert not rig.store.replace("missing", b"x", "text/vcard")
    rig.reopen()
    assert kinds(rig.store) == {}
    other = rig.store.add(b"second", "text/vcard")
    assert other != luid and sorted(rig.store.luids()) == sorted([luid, other])
    assert rig.store.delete(luid) and not rig.store.delete(luid)
    assert kinds(rig.store) == {} and rig.store.read(luid) is None


def test_folder_ignores_hidden_files_and_refuses_odd_names(tmp_path):
    store = FolderStore(tmp_path / "f", "text/calendar")
    (store.path / ".hidden").write_bytes(b"x")
    luid = store.add(b"BEGIN:VCALENDAR", "text/calendar")
    assert luid.endswith(".ics") and store.luids() == [luid]
    with pytest.raises(LocalStoreError):
        store.read("../escape")
