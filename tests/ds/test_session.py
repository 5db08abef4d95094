"""Session handling: keys, resend cache, suspend/resume, late maps, rollback, DevInf."""

import json

import pytest

from gateway.ds.server.handler import Request
from gateway.syncml import codec
from gateway.syncml.devinf import DevInf
from gateway.syncml.errors import RemoteProtocolError
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import (
    Add, Alert, Get, Item, Location, Map, MapItem, Put, Results, Status, Sync,
)
from gateway.ds.server.handler import SyncServer
from gateway.ds.ops import Op, OpQueue
from gateway.ds.server.session import DatastoreState, SessionState
from gateway.ds.settings import ServerSettings
from gateway.store.memory import FailingStore
from tests.ds.simclient import SimClient, status_codes, vcard
from tests.ds.test_sync_flow import server_change, server_items


def alert(code=201, last=None, nxt="N1"):
    return Alert(data=code, items=(Item(target=Location(loc_uri="contacts"),
                                        source=Location(loc_uri="./contacts"),
                                        meta=Meta(anchor=Anchor(last=last, next=nxt))),))


def sync(*cmds):
    return Sync(target=Location(loc_uri="contacts"), source=Location(loc_uri="./contacts"),
                commands=cmds)


def add(luid, data):
    return Add(meta=Meta(type="text/vcard"), items=(Item(source=Location(loc_uri=luid),
                                                         data=data),))


def test_reply_header_and_resp_uri(server):
    c = SimClient(server)
    reply = c.send([alert()], with_cred=True)
    h = reply.header
    assert h.resp_uri == "http://gw/sync?s=" + c.session
    assert h.target.loc_uri == "sim-device" and h.source.loc_uri == "http://gw/sync"
    assert h.session_id == str(c.session_id) and h.msg_id == "1"
    st = reply.commands[0]
    assert (st.cmd, st.cmd_ref, st.msg_ref) == ("SyncHdr", "0", "1")
    assert st.target_refs == ("http://gw/sync",) and st.source_refs == ("sim-device",)
    ids = [int(x.cmd_id) for x in reply.commands]
    assert ids == list(range(1, len(ids) + 1))


def test_unknown_session_key_404(server):
    c = SimClient(server)
    c.session = "nosuchkey"
    with pytest.raises(RemoteProtocolError) as err:
        c.send([alert()], with_cred=True)
    assert err.value.error_status_hint == 404


def test_expired_session_404(make_server):
    server = make_server(session_timeout=10.0)
    c = SimClient(server)
    c.send([alert()], with_cred=True)
    c.now += 60
    with pytest.raises(RemoteProtocolError):
        c.send([sync()], final=True)


def test_resend_same_msgid_answered_from_cache(server, store):
    c = SimClient(server)
    c.send([alert()], with_cred=True)
    reply1 = c.send([sync(add("a", vcard(1)))])
    body1 = c.log[-1].body
    c.msg_id -= 1                                    # the same message again
    c.send([sync(add("a", vcard(1)))])
    assert c.log[-1].body == body1
    assert len(server_items(store)) == 1
    assert status_codes(reply1.commands, "Add") == [201]


def test_devinf_only_session(server, store):
    c = SimClient(server)
    di = c.devinf()
    put = Put(meta=Meta(type=codec.DEVINF_XML), items=(Item(
        source=Location(loc_uri="./devinf12"), data=di),))
    get = Get(meta=Meta(type=codec.DEVINF_XML), items=(Item(
        target=Location(loc_uri="./devinf12")),))
    reply = c.send([put, get], with_cred=True)
    res = [x for x in reply.commands if isinstance(x, Results)]
    assert len(res) == 1
    ours = res[0].items[0].data
    assert isinstance(ours, DevInf) and ours.dev_typ == "server" and ours.man == "omads-gateway"
    assert {d.source_ref for d in ours.datastores} == {"contacts", "calendar", "tasks", "notes"}
    assert ours.support_large_objs and ours.support_number_of_changes
    assert res[0].meta.type == codec.DEVINF_XML
    assert status_codes(reply.commands, "Put") == [200]
    with store.transaction() as tx:
        stored = tx.get_device("sim-device").devinf
    assert codec.decode_devinf(stored, codec.XML).dev_id == "sim-device"
    assert reply.final
    # the client acknowledges the Results; the session ends
    c.send([Status(msg_ref="1", cmd_ref=res[0].cmd_id, cmd="Results", data=200)])
    assert c.ended


def test_devinf11_for_11_client(server):
    c = SimClient(server, ver="1.1", encoding=codec.WBXML)
    get = Get(meta=Meta(type=codec.DEVINF_WBXML), items=(Item(
        target=Location(loc_uri="./devinf11")),))
    reply = c.send([get], with_cred=True)
    res = next(x for x in reply.commands if isinstance(x, Results))
    assert res.items[0].data.ver_dtd == "1.1"
    assert res.meta.type == codec.DEVINF_WBXML
    assert reply.header.ver_dtd == "1.1"


def test_we_get_client_devinf_when_unknown(server, store):
    c = SimClient(server, send_devinf=False)
    reply = c.send([alert()], with_cred=True)
    gets = [x for x in reply.commands if isinstance(x, Get)]
    assert gets and gets[0].items[0].target.loc_uri == "./devinf12"
    res = Results(msg_ref="1", cmd_ref=gets[0].cmd_id, meta=Meta(type=codec.DEVINF_XML),
                  items=(Item(source=Location(loc_uri="./devinf12"), data=c.devinf()),))
    reply = c.send([res, sync()])
    assert status_codes(reply.commands, "Results") == [200]
    with store.transaction() as tx:
        assert tx.get_device("sim-device").devinf


def test_map_in_next_session(server, store):
    server_change(store, "add", data=vcard(1))
    c = SimClient(server)
    c.send([alert()], with_cred=True)
    reply = c.send([sync()])
    adds = [a for x in reply.commands if isinstance(x, Sync) for a in x.commands]
    guid = adds[0].items[0].source.loc_uri
    # the client vanishes before sending its Map; next session it sends it first
    c.session, c.msg_id = None, 0
    m = Map(target=Location(loc_uri="contacts"), source=Location(loc_uri="./contacts"),
            map_items=(MapItem(target=Location(loc_uri=guid), source=Location(loc_uri="L1")),))
    reply = c.send([m, alert()], with_cred=True)
    assert status_codes(reply.commands, "Map") == [200]
    with store.transaction() as tx:
        assert tx.get_map("sim-device", "alice", "contacts") == {"L1": guid}


def test_store_failure_rolls_back_whole_message(store):
    failing = FailingStore(store)
    c = SimClient(SyncServer(ServerSettings(), failing))
    c.send([alert()], with_cred=True)
    failing.fail_on, failing.fail_after = "add_item", 2
    reply = c.send([sync(add("a", vcard(1)), add("b", vcard(2)), add("c", vcard(3)))])
    assert status_codes(reply.commands, "Add") == [510, 510, 510]
    assert status_codes(reply.commands, "Sync") == [510]
    assert server_items(store) == {}
    with store.transaction() as tx:
        assert tx.get_map("sim-device", "alice", "contacts") == {}
    # the session survives; the client can send the items again
    reply = c.send([sync(add("a", vcard(1)), add("b", vcard(2)), add("c", vcard(3)))])
    assert status_codes(reply.commands, "Add") == [201, 201, 201]
    assert len(server_items(store)) == 3


def test_suspend_and_resume(server, store):
    for i in range(100):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server, max_msg_size=10240)
    c.send([alert(201, nxt="S1")], with_cred=True)
    reply = c.send([sync()])
    assert not reply.final
    first = [a for x in reply.commands if isinstance(x, Sync) for a in x.commands]
    assert 0 < len(first) < 100
    # acknowledge the first message's items and suspend
    acks = [Status(msg_ref=reply.header.msg_id, cmd_ref=a.cmd_id, cmd="Add", data=201)
            for a in first]
    maps = Map(target=Location(loc_uri="contacts"), source=Location(loc_uri="./contacts"),
               map_items=tuple(MapItem(target=Location(loc_uri=a.items[0].source.loc_uri),
                                       source=Location(loc_uri=f"L{i}"))
                               for i, a in enumerate(first)))
    reply = c.send(acks + [maps, Alert(data=224)])
    assert status_codes(reply.commands, "Alert") == [200]
    assert c.ended
    # resume in a new session: only the rest is sent
    c.session, c.msg_id = None, 0
    reply = c.send([alert(225, nxt="S1")], with_cred=True)
    assert [x.data for x in reply.commands if isinstance(x, Alert)] == [225]
    reply = c.send([sync()])
    c.items = {}
    rest = [a for x in reply.commands if isinstance(x, Sync) for a in x.commands]
    c.receive(reply)
    assert len(c.items) == 100 - len(first)
    assert {a.items[0].source.loc_uri for a in first}.isdisjoint(
        {a.items[0].source.loc_uri for a in rest})
    with store.transaction() as tx:
        assert len(tx.get_map("sim-device", "alice", "contacts")) == 100
        assert tx.get_sync_state("sim-device", "alice", "contacts").client_anchor == "S1"


def test_resume_without_state_falls_back(server, store):
    c = SimClient(server)
    reply = c.send([alert(225, last="X", nxt="S2")], with_cred=True)
    assert status_codes(reply.commands, "Alert") == [508]
    assert [x.data for x in reply.commands if isinstance(x, Alert)] == [201]


def test_unknown_command_gets_status(server):
    from gateway.syncml.model import Exec
    c = SimClient(server)
    reply = c.send([Exec(items=(Item(target=Location(loc_uri="x")),))], with_cred=True)
    assert status_codes(reply.commands, "Exec") == [406]


def test_bad_content_type_415(server, store):
    c = SimClient(server)
    c.send([alert()], with_cred=True)
    bad = Add(meta=Meta(type="image/png"), items=(Item(source=Location(loc_uri="a"),
                                                       data="xx"),))
    reply = c.send([sync(bad)])
    assert status_codes(reply.commands, "Add") == [415]


def test_byte_level_bad_media_type_and_garbage(server):
    with pytest.raises(RemoteProtocolError) as err:
        server.handle(Request(body=b"x", content_type="text/html", session=None,
                              base_url="http://gw/sync", now=1.0))
    assert err.value.error_status_hint == 415
    with pytest.raises(RemoteProtocolError) as err:
        server.handle(Request(body=b"<nonsense", content_type=codec.XML, session=None,
                              base_url="http://gw/sync", now=1.0))
    assert err.value.error_status_hint == 400


def test_state_round_trips_and_reads_the_older_layout():
    ds = DatastoreState(name="contacts", client_uri="./c", server_uri="contacts", mode=201)
    ds.received.add("g1")
    ds.received.add_new("g2")
    ds.received.add("g1")
    ds.pending = OpQueue([["add", "g3", None], ["replace", "g4", "l4"]])
    st = SessionState(key="k", created=1.0, expires=2.0, datastores={"contacts": ds})
    back = SessionState.from_bytes(st.to_bytes())
    got = back.datastores["contacts"]
    assert got == ds and len(got.received) == 2 and "g2" in got.received
    assert list(got.pending) == [Op("add", "g3", None), Op("replace", "g4", "l4")]
    got.pending.drop(1)
    assert list(got.pending) == [Op("replace", "g4", "l4")] and len(got.pending) == 1
    # the layout before: received and pending as plain lists of guids / operations
    raw = json.loads(st.to_bytes())
    raw["datastores"]["contacts"]["pending"] = [["add", "g3", None]]
    raw["datastores"]["contacts"]["received"] = ["g1", "g1"]
    old = SessionState.from_bytes(json.dumps(raw).encode()).datastores["contacts"]
    assert list(old.pending) == [Op("add", "g3", None)] and len(old.received) == 1
