"""An in-memory Store for engine tests: the base.StoreTransaction operations over dicts,
with real rollback (a deep copy taken when a transaction begins is restored on error).
``fail_on`` makes one operation raise StoreError after ``fail_after`` successful calls."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import replace

from gateway.store.base import Change, Item, NotFound, StoreError


class FakeStore:
    def __init__(self):
        self.accounts = {}
        self.devices = {}
        self.items = {}          # (user, ds) -> {guid: Item}  (tombstones kept)
        self.fingerprints = {}   # (user, ds) -> {guid: fingerprint} of live items
        self.revs = {}           # (user, ds) -> rev
        self.states = {}
        self.maps = {}           # (device, user, ds) -> {luid: guid}
        self.bases = {}          # (device, user, ds) -> {luid: base} (merge bases)
        self.sessions = {}       # key -> (bytes, expires)
        self.failures = []       # (key, at)
        self.next_id = 1
        self.fail_on: str | None = None
        self.fail_after = 0
        self.commits = 0

    _STATE = ("accounts", "devices", "items", "fingerprints", "revs", "states", "maps",
              "bases", "sessions", "failures", "next_id")

    @contextmanager
    def transaction(self):
        saved = {k: copy.deepcopy(getattr(self, k)) for k in self._STATE}
        try:
            yield self
        except BaseException:
            for k, v in saved.items():
                setattr(self, k, v)
            raise
        self.commits += 1

    # Savepoints (base.StoreTransaction): a stack of (name, deep copy of the state).
    def savepoint(self, name: str) -> None:
        self.__dict__.setdefault("_savepoints", []).append(
            (name, {k: copy.deepcopy(getattr(self, k)) for k in self._STATE}))

    def _savepoint_at(self, name: str) -> int:
        marks = self.__dict__.get("_savepoints", [])
        for at in range(len(marks) - 1, -1, -1):
            if marks[at][0] == name:
                return at
        raise StoreError(f"no savepoint {name!r}")

    def rollback_to(self, name: str) -> None:
        for k, v in self._savepoints[self._savepoint_at(name)][1].items():
            setattr(self, k, copy.deepcopy(v))

    def release(self, name: str) -> None:
        del self._savepoints[self._savepoint_at(name):]

    def close(self):
        pass

    def _maybe_fail(self, op: str):
        if self.fail_on == op:
            if self.fail_after <= 0:
                self.fail_on = None
                raise StoreError(f"injected failure in {op}")
            self.fail_after -= 1

    # accounts
    def get_account(self, username):
        return self.accounts.get(username)

    def put_account(self, account):
        self.accounts[account.username] = account

    def remove_account(self, username):
        return self.accounts.pop(username, None) is not None

    def list_accounts(self):
        return sorted(self.accounts.values(), key=lambda a: a.username)

    # devices
    def get_device(self, device_id):
        return self.devices.get(device_id)

    def put_device(self, device):
        self.devices[device.device_id] = device

    def list_devices(self, username=None):
        return [d for d in self.devices.values() if username is None or d.username == username]

    # items
    def _bump(self, key):
        self.revs[key] = self.revs.get(key, 0) + 1
        return self.revs[key]

    def get_item(self, username, datastore, guid):
        it = self.items.get((username, datastore), {}).get(guid)
        return None if it is None or it.deleted else it

    def _fingerprint(self, key, guid, fingerprint):
        fps = self.fingerprints.setdefault(key, {})
        if fingerprint is None:
            fps.pop(guid, None)
        else:
            fps[guid] = fingerprint

    def add_item(self, username, datastore, *, data, content_type, uid=None, changed_by=None,
                 now=0.0, fingerprint=None):
        self._maybe_fail("add_item")
        key = (username, datastore)
        guid = f"g{self.next_id}"
        self.next_id += 1
        it = Item(guid=guid, data=bytes(data), content_type=content_type, rev=self._bump(key),
                  uid=uid, changed_by=changed_by, modified=now)
        self.items.setdefault(key, {})[guid] = it
        self._fingerprint(key, guid, fingerprint)
        return it

    def replace_item(self, username, datastore, guid, *, data, content_type, uid=None,
                     changed_by=None, now=0.0, fingerprint=None):
        self._maybe_fail("replace_item")
        key = (username, datastore)
        if self.get_item(username, datastore, guid) is None:
            raise NotFound(guid)
        it = Item(guid=guid, data=bytes(data), content_type=content_type, rev=self._bump(key),
                  uid=uid, changed_by=changed_by, modified=now)
        self.items[key][guid] = it
        self._fingerprint(key, guid, fingerprint)
        return it

    def delete_item(self, username, datastore, guid, *, changed_by=None, now=0.0):
        self._maybe_fail("delete_item")
        key = (username, datastore)
        it = self.get_item(username, datastore, guid)
        if it is None:
            return False
        self.items[key][guid] = replace(it, deleted=True, data=b"", rev=self._bump(key),
                                        changed_by=changed_by, modified=now)
        self._fingerprint(key, guid, None)
        return True

    def delete_all(self, username, datastore, *, changed_by=None, now=0.0):
        n = 0
        for guid in [g for g, i in self.items.get((username, datastore), {}).items()
                     if not i.deleted]:
            n += self.delete_item(username, datastore, guid, changed_by=changed_by, now=now)
        return n

    def list_items(self, username, datastore):
        return iter(sorted((i for i in self.items.get((username, datastore), {}).values()
                            if not i.deleted), key=lambda i: int(i.guid[1:])))

    def list_guids(self, username, datastore, *, after=None, limit=None):
        guids = [i.guid for i in self.list_items(username, datastore)]
        if after is not None:
            guids = [g for g in guids if int(g[1:]) > int(after[1:])]
        return guids if limit is None else guids[:limit]

    def count_items(self, username, datastore):
        return sum(1 for _ in self.list_items(username, datastore))

    def find_by_uid(self, username, datastore, uid):
        return next((i for i in self.list_items(username, datastore) if i.uid == uid), None)

    def find_by_fingerprint(self, username, datastore, fingerprint):
        fps = self.fingerprints.get((username, datastore), {})
        return [i.guid for i in self.list_items(username, datastore)
                if fps.get(i.guid) == fingerprint]

    def list_items_without_fingerprint(self, username, datastore, *, limit=None):
        fps = self.fingerprints.get((username, datastore), {})
        found = [i for i in self.list_items(username, datastore) if i.guid not in fps]
        return found if limit is None else found[:limit]

    def set_fingerprints(self, username, datastore, pairs):
        key = (username, datastore)
        for guid, fingerprint in pairs:
            if self.get_item(username, datastore, guid) is not None:
                self._fingerprint(key, guid, fingerprint)

    def changes_since(self, username, datastore, rev):
        return [Change(guid=i.guid, rev=i.rev, deleted=i.deleted, changed_by=i.changed_by)
                for i in sorted(self.items.get((username, datastore), {}).values(),
                                key=lambda i: i.rev) if i.rev > rev]

    def current_rev(self, username, datastore):
        return self.revs.get((username, datastore), 0)

    # sync state and maps
    def get_sync_state(self, device_id, username, datastore):
        return self.states.get((device_id, username, datastore))

    def put_sync_state(self, state):
        self.states[(state.device_id, state.username, state.datastore)] = state

    def get_map(self, device_id, username, datastore, luids=None):
        m = self.maps.get((device_id, username, datastore), {})
        if luids is None:
            return dict(m)
        return {luid: m[luid] for luid in luids if luid in m}

    def put_mappings(self, device_id, username, datastore, pairs):
        self._maybe_fail("put_mappings")
        key = (device_id, username, datastore)
        m, bases = self.maps.setdefault(key, {}), self.bases.setdefault(key, {})
        for luid, guid in pairs:
            if m.get(luid) != guid:
                bases.pop(luid, None)
            m[luid] = guid

    def put_bases(self, device_id, username, datastore, entries):
        self._maybe_fail("put_bases")
        key = (device_id, username, datastore)
        m, bases = self.maps.setdefault(key, {}), self.bases.setdefault(key, {})
        for luid, guid, base in entries:
            m[luid] = guid
            if base is None:
                bases.pop(luid, None)
            else:
                bases[luid] = bytes(base)

    def get_base(self, device_id, username, datastore, luid, guid):
        key = (device_id, username, datastore)
        if self.maps.get(key, {}).get(luid) != guid:
            return None
        return self.bases.get(key, {}).get(luid)

    def remove_mappings(self, device_id, username, datastore, luids):
        key = (device_id, username, datastore)
        m, bases = self.maps.get(key, {}), self.bases.get(key, {})
        for luid in luids:
            m.pop(luid, None)
            bases.pop(luid, None)

    def clear_map(self, device_id, username, datastore):
        self.maps.pop((device_id, username, datastore), None)
        self.bases.pop((device_id, username, datastore), None)

    def move_map(self, from_device, to_device, username, datastore):
        src, dst = (from_device, username, datastore), (to_device, username, datastore)
        self.maps[dst] = self.maps.pop(src, {})
        self.bases[dst] = self.bases.pop(src, {})
        return len(self.maps[dst])

    # sessions
    def load_session(self, key):
        got = self.sessions.get(key)
        return None if got is None else got[0]

    def save_session(self, key, state, *, expires):
        self.sessions[key] = (bytes(state), expires)

    def delete_session(self, key):
        self.sessions.pop(key, None)

    def expire_sessions(self, now):
        dead = [k for k, (_, e) in self.sessions.items() if e <= now]
        for k in dead:
            del self.sessions[k]
        return len(dead)

    # throttling
    def record_auth_failure(self, key, now):
        self.failures.append((key, now))

    def count_auth_failures(self, key, since):
        return sum(1 for k, t in self.failures if k == key and t >= since)

    def clear_auth_failures(self, key):
        self.failures = [(k, t) for k, t in self.failures if k != key]


class FailingStore:
    """Wraps any Store; ``fail_on`` / ``fail_after`` inject a StoreError into one
    operation of a transaction (the wrapped store then rolls back for real)."""

    def __init__(self, inner):
        self.inner = inner
        self.fail_on: str | None = None
        self.fail_after = 0

    @contextmanager
    def transaction(self):
        with self.inner.transaction() as tx:
            yield _FailingTx(self, tx)

    def close(self):
        self.inner.close()


class _FailingTx:
    def __init__(self, owner, tx):
        self._owner = owner
        self._tx = tx

    def __getattr__(self, name):
        target = getattr(self._tx, name)
        owner = self._owner

        def call(*args, **kwargs):
            if owner.fail_on == name:
                if owner.fail_after <= 0:
                    owner.fail_on = None
                    raise StoreError(f"injected failure in {name}")
                owner.fail_after -= 1
            return target(*args, **kwargs)
        return call
