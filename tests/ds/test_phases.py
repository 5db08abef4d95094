"""The phases of a server session and of its datastore syncs (ds/server/phases.py): the
tables, the phases a real session goes through as stored between messages, and suspended
syncs kept in the previous state format."""

from __future__ import annotations

import json

import pytest

from gateway.ds.server.phases import (
    DATASTORE_TRANSITIONS, SESSION_TRANSITIONS, DatastoreInput, DatastorePhase, SessionInput,
    SessionPhase, datastore_next, session_next)
from gateway.ds.server.session import (
    DatastoreState, ResumeState, SessionState, resume_key)
from gateway.syncml.errors import LocalProtocolError, RemoteProtocolError
from gateway.syncml.model import Alert, Location, Map, MapItem, Status, Sync
from tests.ds.simclient import SimClient, status_codes, vcard
from tests.ds.test_session import alert, sync
from tests.ds.test_sync_flow import server_change


@pytest.mark.parametrize("phase", list(SessionPhase))
@pytest.mark.parametrize("inp", list(SessionInput))
def test_session_table(phase, inp):
    if (phase, inp) in SESSION_TRANSITIONS:
        assert session_next(phase, inp) is SESSION_TRANSITIONS[(phase, inp)]
    else:
        with pytest.raises(LocalProtocolError, match=inp.name):
            session_next(phase, inp)


@pytest.mark.parametrize("phase", list(DatastorePhase))
@pytest.mark.parametrize("inp", list(DatastoreInput))
def test_datastore_table(phase, inp):
    if (phase, inp) in DATASTORE_TRANSITIONS:
        assert datastore_next(phase, inp) is DATASTORE_TRANSITIONS[(phase, inp)]
    else:
        with pytest.raises(LocalProtocolError, match=phase.name):
            datastore_next(phase, inp)


def test_an_ended_session_takes_no_more_and_resume_never_redoes_the_bookkeeping():
    st = SessionState(key="k", created=0.0, expires=1.0)
    with pytest.raises(LocalProtocolError):
        st.advance(SessionInput.REPLIED)             # not before authentication
    st.advance(SessionInput.AUTHENTICATED)
    st.advance(SessionInput.ENDED)
    assert st.phase is SessionPhase.ENDED
    for inp in SessionInput:
        with pytest.raises(LocalProtocolError):
            st.advance(inp)
    assert datastore_next(DatastorePhase.SENDING, DatastoreInput.RESUME) \
        is DatastorePhase.RECEIVING
    assert datastore_next(DatastorePhase.ALERTED, DatastoreInput.RESUME) \
        is DatastorePhase.ALERTED


def _stored(store, key: str) -> SessionState:
    with store.transaction() as tx:
        return SessionState.from_bytes(bytes(tx.load_session(key)))


def test_phases_of_a_session_as_stored(server, store):
    for i in range(60):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server, max_msg_size=10240)
    c.send([alert(201, nxt="P1")], with_cred=True)
    st = _stored(store, c.session)
    assert st.phase is SessionPhase.OPEN and st.authenticated
    assert st.datastores["contacts"].phase is DatastorePhase.ALERTED
    reply = c.send([sync()])
    assert not reply.final                             # our package goes on
    st = _stored(store, c.session)
    assert st.phase is SessionPhase.SENDING_MORE
    assert st.datastores["contacts"].phase is DatastorePhase.SENDING
    assert st.inflight and all(e.datastore == "contacts" and e.kind == "add"
                               and e.payload for e in st.inflight.values())
    key = c.session
    c.receive(reply)
    assert c.ended and len(c.items) == 60
    st = _stored(store, key)
    assert st.phase is SessionPhase.ENDED and st.datastores == {}


def test_a_session_refused_before_authentication_ends(server, store):
    c = SimClient(server, ver="1.3")
    reply = c.send([alert()], with_cred=True)
    assert reply.commands[0].data == 505 and c.ended


def test_a_session_of_the_previous_format_is_refused(server, store):
    c = SimClient(server)
    c.send([alert()], with_cred=True)
    with store.transaction() as tx:
        raw = json.loads(bytes(tx.load_session(c.session)))
        raw["format"] = 1
        tx.save_session(c.session, json.dumps(raw).encode(), expires=raw["expires"])
    with pytest.raises(RemoteProtocolError) as err:
        c.send([sync()])
    assert err.value.error_status_hint == 404


def _as_format_1(record: bytes) -> bytes:
    """A ResumeState as the previous format wrote it: phases alerted/sending/done and
    the flag ``prepared`` beside them."""
    raw = json.loads(record)
    assert raw["format"] == 2
    ds = raw["datastore"]
    ds["prepared"] = ds["phase"] != "alerted"
    if ds["phase"] == "receiving":
        ds["phase"] = "alerted"
    raw["format"] = 1
    return json.dumps(raw).encode()


@pytest.mark.parametrize("phase,prepared,expected", [
    ("alerted", False, DatastorePhase.ALERTED), ("alerted", True, DatastorePhase.RECEIVING),
    ("sending", True, DatastorePhase.SENDING)])
def test_resume_records_of_format_1_load(phase, prepared, expected):
    ds = DatastoreState(name="contacts", client_uri="./c", server_uri="contacts", mode=201)
    raw = {"format": 1, "suspended_at": 5.0,
           "datastore": {**ds.to_dict(), "phase": phase, "prepared": prepared,
                         "sendback": [["replace", "g1", "l1"]]}}
    got = ResumeState.from_bytes(json.dumps(raw).encode())
    assert got.datastore.phase is expected and got.suspended_at == 5.0
    assert got.datastore.sendback == [("replace", "g1", "l1")]
    assert got.datastore.sendback[0].target == "l1"
    with pytest.raises(ValueError):
        ResumeState.from_bytes(json.dumps({**raw, "format": 0}).encode())


def test_a_suspended_slow_sync_kept_in_format_1_resumes(server, store):
    for i in range(100):
        server_change(store, "add", data=vcard(i))
    c = SimClient(server, max_msg_size=10240)
    c.send([alert(201, nxt="S1")], with_cred=True)
    reply = c.send([sync()])
    first = [a for x in reply.commands if isinstance(x, Sync) for a in x.commands]
    acks = [Status(msg_ref=reply.header.msg_id, cmd_ref=a.cmd_id, cmd="Add", data=201)
            for a in first]
    maps = Map(target=Location(loc_uri="contacts"), source=Location(loc_uri="./contacts"),
               map_items=tuple(MapItem(target=Location(loc_uri=a.items[0].source.loc_uri),
                                       source=Location(loc_uri=f"L{i}"))
                               for i, a in enumerate(first)))
    c.send(acks + [maps, Alert(data=224)])
    key = resume_key("sim-device", "alice", "contacts")
    with store.transaction() as tx:
        record = bytes(tx.load_session(key))
        assert json.loads(record)["datastore"]["phase"] == "sending"
        tx.save_session(key, _as_format_1(record), expires=2e9)
    c.session, c.msg_id = None, 0
    reply = c.send([alert(225, nxt="S1")], with_cred=True)
    assert [x.data for x in reply.commands if isinstance(x, Alert)] == [225]
    assert status_codes(reply.commands, "Alert") == [200]
    reply = c.send([sync()])
    c.items = {}
    c.receive(reply)
    assert len(c.items) == 100 - len(first)        # only the rest, the map kept
    with store.transaction() as tx:
        assert len(tx.get_map("sim-device", "alice", "contacts")) == 100
        assert tx.get_sync_state("sim-device", "alice", "contacts").client_anchor == "S1"
