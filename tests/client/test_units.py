"""Small pure pieces: SAN checks, large-object reassembly, client state, Map batches."""

from __future__ import annotations

import base64

import pytest

from gateway.client import san_check
from gateway.ds import largeobj
from gateway.ds.client.settings import DatastoreConfig
from gateway.ds.client.state import ClientState, ResumeInfo
from gateway.notify.san import SAN, SANSync, encode_san
from gateway.notify.wsp import san_push

STORES = (DatastoreConfig(local_uri="./contacts", remote_uri="contacts", mode=200),
          DatastoreConfig(local_uri="./calendar", remote_uri="calendar", mode=202))


def san(server_id="gw", password="pw", syncs=()):
    return encode_san(SAN(server_id=server_id, syncs=syncs), password=password)


def check(data, **kw):
    kw = {"server_id": "gw", "password": "pw", "nonce_b64": "", **kw}
    return san_check.check(data, datastores=STORES, **kw)


def test_san_names_the_syncs_in_client_form():
    got = check(san(syncs=(SANSync(sync_type=209, server_uri="./Contacts"),
                           SANSync(sync_type=206, server_uri="unknown"))))
    assert isinstance(got, san_check.Accepted) and got.modes == {"./contacts": 204}
    everything = check(san())
    assert everything.modes == {"./contacts": 200, "./calendar": 202}


@pytest.mark.parametrize("data,kw,reason", [
    (san(password="nope"), {}, "bad digest"),
    (san(server_id="other"), {}, "server id"),
    (san(syncs=(SANSync(sync_type=206, server_uri="tasks"),)), {}, "none of our"),
    (b"\x00" * 10, {}, "undecodable"),
    (san(), {"nonce_b64": base64.b64encode(b"n").decode()}, "bad digest"),
])
def test_bad_sans_are_refused(data, kw, reason):
    got = check(data, **kw)
    assert isinstance(got, san_check.Refused) and reason in got.reason


def test_push_unwrapping():
    data = san()
    assert san_check.unwrap_push(san_push(data)) == data


def piece(wire, more, size=None, luid="g1"):
    return largeobj.Piece(cmd="Add", luid=luid, target=None, content_type="text/vcard",
                          fmt=None, size=size, wire=wire, more_data=more)


def test_reassembly_checks_size_and_interruptions():
    r = largeobj.receive(None, piece(b"abc", True, size=6), max_obj_size=100)
    assert r.code == 213
    r = largeobj.receive(r.buffer, piece(b"def", False), max_obj_size=100)
    assert r.code is None and r.data == b"abcdef" and r.buffer is None
    r = largeobj.receive(None, piece(b"abc", True, size=5), max_obj_size=100)
    assert largeobj.receive(r.buffer, piece(b"def", False), max_obj_size=100).code == 424
    assert largeobj.receive(None, piece(b"abc", True), max_obj_size=100).code == 411
    big = largeobj.receive(None, piece(b"abc", True, size=1000), max_obj_size=100)
    assert big.code == 413 and largeobj.receive(big.buffer, piece(b"x", False),
                                                max_obj_size=100).code == 413
    r = largeobj.receive(None, piece(b"abc", True, size=6), max_obj_size=100)
    other = largeobj.receive(r.buffer, piece(b"whole", False, luid="g2"), max_obj_size=100)
    assert other.interrupted["luid"] == "g1" and other.data == b"whole"


def test_client_state_round_trip():
    state = ClientState()
    mem = state.memory("./contacts")
    mem.last_anchor, mem.map, mem.pending_map = "A1", {"l1": "g1"}, {"l2": "g2"}
    mem.resume = ResumeInfo(mode=201, last=None, next="A2", sent=["l1"])
    state.nonces["http://x"] = "bm9uY2U="
    again = ClientState.from_bytes(state.to_bytes())
    assert again.datastores["./contacts"] == mem and again.nonces == state.nonces
    with pytest.raises(ValueError):
        ClientState.from_bytes(b'{"format": 99}')
