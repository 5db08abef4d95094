"""An Atomic at the top of the SyncBody (around a Sync) is all or nothing too, on the
in-memory store and on SQLite (the engine's dispatch goes through gateway.ds.atomic)."""

from __future__ import annotations

import pytest

from gateway.syncml import codec
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import Alert, Atomic, Item, Location, Status, Sync
from tests.ds.simclient import SimClient, vcard
from tests.ds.test_atomic import add, bad_type, numbered
from tests.ds.test_sync_flow import server_items


def _session_with(c: SimClient, atomic_children_of_sync) -> dict[str, list[int]]:
    """A two-way session whose package 3 is one Atomic around one Sync; statuses by
    command name."""
    c.session, c.msg_id = None, 0
    c.session_id += 1
    reply = c.send([Alert(data=200, items=(Item(
        target=Location(loc_uri=c.server_ds), source=Location(loc_uri=c.ds_uri),
        meta=Meta(anchor=Anchor(last=c.last_anchor, next="N1"))),))], with_cred=True)
    sync = Sync(target=Location(loc_uri=c.server_ds), source=Location(loc_uri=c.ds_uri),
                commands=tuple(atomic_children_of_sync))
    wrapped = numbered(Atomic(commands=(sync,)), iter(range(100, 1000)))
    reply = c.send(c.statuses_for(reply) + [wrapped], final=True)
    msg_id = c.log[-1].request.header.msg_id
    codes: dict[str, list[int]] = {}
    for s in reply.commands:
        if isinstance(s, Status) and s.msg_ref == msg_id:
            codes.setdefault(s.cmd, []).append(s.data)
    return codes


@pytest.mark.parametrize("encoding", [codec.XML, codec.WBXML])
def test_top_level_atomic_with_a_failing_item_rolls_the_sync_back(make_server, store, encoding):
    c = SimClient(make_server(), encoding=encoding)
    c.items = {"c1": vcard(1)}
    assert c.sync(201)[0] == 201
    before = server_items(store)
    codes = _session_with(c, [add("a1", vcard(11)), bad_type("a2")])
    assert codes["Atomic"] == [507]
    assert codes["Sync"] == [216]
    assert sorted(codes["Add"]) == [216, 415]
    assert server_items(store) == before


def test_top_level_atomic_that_succeeds_applies_the_sync(make_server, store):
    c = SimClient(make_server())
    c.items = {"c1": vcard(1)}
    assert c.sync(201)[0] == 201
    codes = _session_with(c, [add("a1", vcard(11)), add("a2", vcard(12))])
    assert codes["Atomic"] == [200] and codes["Sync"] == [200]
    assert codes["Add"] == [201, 201]
    assert len(server_items(store)) == 3
