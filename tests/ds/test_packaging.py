"""Multi-message packages both ways and large objects both ways."""

import base64

from gateway.syncml import codec
from gateway.syncml.model import Add, Alert, Item, Location, Status, Sync
from gateway.syncml.metinf import Anchor, Meta
from tests.ds.simclient import SimClient, status_codes, vcard
from tests.ds.test_sync_flow import server_items


def test_client_package_over_several_messages_gets_alert_222(server, store):
    c = SimClient(server, items_per_message=4)
    c.items = {f"c{i}": vcard(i) for i in range(10)}
    mode, got = c.sync(201)
    assert mode == 201
    assert len(server_items(store)) == 10
    # replies to the non-final client messages: no Final, Alert 222
    mid = [e for e in c.log if not e.request.final]
    assert mid
    for e in mid:
        assert not e.reply.final
        assert any(isinstance(x, Alert) and x.data == 222 for x in e.reply.commands)


def _big_server(store, n):
    with store.transaction() as tx:
        for i in range(n):
            tx.add_item("alice", "contacts", data=vcard(i).encode(), content_type="text/vcard",
                        changed_by="web")


def test_server_package_split_within_max_msg_size(server, store):
    _big_server(store, 500)
    c = SimClient(server, max_msg_size=10240)
    mode, _ = c.sync(201)
    assert mode == 201
    assert len(c.items) == 500
    syncs = [e for e in c.log if any(isinstance(x, Sync) and x.commands for x in e.reply.commands)]
    assert len(syncs) > 10
    for e in c.log:
        assert len(e.body) <= 10240
    with store.transaction() as tx:
        assert len(tx.get_map("sim-device", "alice", "contacts")) == 500
    # NumberOfChanges tells the whole package size in every message
    noc = {x.number_of_changes for e in syncs for x in e.reply.commands if isinstance(x, Sync)}
    assert noc == {500}


def test_server_split_wbxml(make_server, store):
    _big_server(store, 200)
    c = SimClient(make_server(), max_msg_size=10240, encoding=codec.WBXML)
    c.sync(201)
    assert len(c.items) == 200


def test_many_statuses_carried_over(server, store):
    c = SimClient(server, max_msg_size=10240)
    c.items = {f"c{i}": vcard(i) for i in range(300)}
    c.items_per_message = 50
    c.max_msg_size = 10240
    mode, got = c.sync(201)
    assert sorted(status_codes(got, "Add")) == [201] * 300
    assert len(server_items(store)) == 300


PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:" + base64.b64encode(bytes(range(256)) * 600).decode() + "\r\n"


def test_large_object_to_client(server, store):
    big = vcard(1, extra=PHOTO)
    assert len(big) > 200_000
    with store.transaction() as tx:
        tx.add_item("alice", "contacts", data=big.encode(), content_type="text/vcard")
    c = SimClient(server, max_msg_size=20000, max_obj_size=4_000_000)
    c.sync(201)
    assert list(c.items.values()) == [big]
    chunked = [x for e in c.log for x in e.reply.commands if isinstance(x, Sync)
               for a in x.commands if a.items[0].more_data]
    assert len(chunked) >= 10


def test_large_object_not_sent_beyond_client_max_obj_size(server, store):
    big = vcard(1, extra=PHOTO)
    with store.transaction() as tx:
        tx.add_item("alice", "contacts", data=big.encode(), content_type="text/vcard")
        tx.add_item("alice", "contacts", data=vcard(2).encode(), content_type="text/vcard")
    c = SimClient(server, max_msg_size=20000, max_obj_size=100_000)
    c.sync(201)
    assert list(c.items.values()) == [vcard(2)]


def _chunks(data: str, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)]


def _send_chunked(c, data, declared=None, luid="big1"):
    """Send one object in chunks of 30000 chars, one chunk per message."""
    pieces = _chunks(data, 30000)
    statuses = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        meta = Meta(size=declared if declared is not None else len(data.encode())) if i == 0 else None
        add = Add(meta=Meta(type="text/vcard"), items=(Item(
            source=Location(loc_uri=luid), meta=meta, data=piece, more_data=not last),))
        sync = Sync(target=Location(loc_uri="contacts"), source=Location(loc_uri="./contacts"),
                    commands=(add,))
        reply = c.send([sync], final=last)
        statuses += [s for s in reply.commands if isinstance(s, Status) and s.cmd == "Add"]
    return statuses


def _start(c):
    c.session, c.msg_id = None, 0
    alert = Alert(data=201, items=(Item(target=Location(loc_uri="contacts"),
                                        source=Location(loc_uri="./contacts"),
                                        meta=Meta(anchor=Anchor(next="N1"))),))
    c.send([alert], with_cred=True)


def test_large_object_from_client(server, store):
    big = vcard(7, extra=PHOTO)
    c = SimClient(server)
    _start(c)
    statuses = _send_chunked(c, big)
    codes = [s.data for s in statuses]
    assert codes[:-1] == [213] * (len(codes) - 1) and codes[-1] == 201
    assert list(server_items(store).values()) == [big]


def test_large_object_size_mismatch_424(server, store):
    big = vcard(7, extra=PHOTO)
    c = SimClient(server)
    _start(c)
    statuses = _send_chunked(c, big, declared=len(big) + 10)
    assert statuses[-1].data == 424
    assert server_items(store) == {}


def test_large_object_over_our_limit_413(make_server, store):
    c = SimClient(make_server(max_obj_size=100_000))
    _start(c)
    statuses = _send_chunked(c, vcard(7, extra=PHOTO))
    assert statuses[0].data == 413
    assert server_items(store) == {}


def test_interrupted_large_object_alert_223(server, store):
    c = SimClient(server)
    _start(c)
    big = vcard(7, extra=PHOTO)
    first = _chunks(big, 30000)[0]
    add = Add(meta=Meta(type="text/vcard"), items=(Item(
        source=Location(loc_uri="big1"), meta=Meta(size=len(big)), data=first, more_data=True),))
    other = Add(meta=Meta(type="text/vcard"), items=(Item(
        source=Location(loc_uri="small"), data=vcard(3)),))
    sync = lambda *cmds: Sync(target=Location(loc_uri="contacts"),
                              source=Location(loc_uri="./contacts"), commands=cmds)
    c.send([sync(add)], final=False)
    reply = c.send([sync(other)], final=True)
    alerts = [x for x in reply.commands if isinstance(x, Alert) and x.data == 223]
    assert len(alerts) == 1 and alerts[0].items[0].target.loc_uri == "big1"
    assert list(server_items(store).values()) == [vcard(3)]
