"""The client engine against the server engine in-process (bytes through SyncServer)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.client.folder import FolderStore
from gateway.ds.client.engine import ClientSession
from gateway.ds.client.errors import AuthError
from gateway.ds.client.events import Exchanged, ModeSettled, SessionEnded
from gateway.ds.server.handler import Request, SyncServer
from gateway.ds.settings import ServerSettings
from gateway.syncml import codec
from gateway.syncml.errors import LocalProtocolError
from tests.client.helpers import BASE, Clock, run, server_items, settings
from tests.client.runcli import contacts, folder_items
from tests.interop.vcards import make_vcards

ENCODINGS = [codec.XML, codec.WBXML]


def server_add(store, card: bytes) -> str:
    with store.transaction() as tx:
        return tx.add_item("alice", "contacts", data=card, content_type="text/vcard",
                           now=1.0).guid


class Rig:
    def __init__(self, gw, tmp_path, encoding, **server_kw):
        self.server = SyncServer(ServerSettings(**server_kw), gw)
        self.gw = gw
        self.folder = FolderStore(tmp_path / "items")
        from gateway.ds.client.state import ClientState
        self.state = ClientState()
        self.clock = Clock()
        self.encoding = encoding

    def sync(self, mode=200, *, resume=False, stop_after=None, **kw) -> ClientSession:
        session = ClientSession(settings(mode=mode, encoding=self.encoding, **kw), self.state,
                                {"./contacts": self.folder}, now=self.clock(), resume=resume)
        return run(self.server, session, self.clock, stop_after=stop_after)

    def same(self) -> bool:
        return contacts(folder_items(self.folder.path)) == contacts(server_items(self.gw))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_slow_then_two_way_with_changes_on_both_sides(gw, tmp_path, encoding):
    rig = Rig(gw, tmp_path, encoding)
    for name, card in make_vcards(5, seed=1).items():
        (rig.folder.path / name).write_bytes(card)
    first = rig.sync(200)                     # no anchor yet: the engine asks for slow sync
    assert first.ok and first.runs["./contacts"].mode == 201
    assert rig.same() and len(server_items(gw)) == 5

    guid = server_add(gw, make_vcards(1, seed=2)["c2-000001.vcf"])
    (rig.folder.path / "c1-000001.vcf").unlink()
    (rig.folder.path / "mine.vcf").write_bytes(make_vcards(1, seed=3)["c3-000001.vcf"])
    second = rig.sync(200)
    c = second.runs["./contacts"].counters
    assert second.runs["./contacts"].mode == 200
    assert (c.remote_added, c.remote_deleted, c.local_added) == (1, 1, 1)
    assert rig.same()
    mem = rig.state.datastores["./contacts"]
    assert guid in mem.map.values() and not mem.pending_map      # the Map was acknowledged
    with gw.transaction() as tx:
        assert guid in tx.get_map("omads-test", "alice", "contacts").values()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_mode(gw, tmp_path, encoding):
    rig = Rig(gw, tmp_path, encoding)
    for name, card in make_vcards(3, seed=4).items():
        (rig.folder.path / name).write_bytes(card)
    assert rig.sync(201).ok and rig.same()
    server_add(gw, make_vcards(1, seed=5)["c5-000001.vcf"])
    (rig.folder.path / "x.vcf").write_bytes(make_vcards(1, seed=6)["c6-000001.vcf"])
    s = rig.sync(204)                         # one-way from server: ours stays pending
    assert s.runs["./contacts"].counters.local_added == 1
    assert s.runs["./contacts"].counters.remote_added == 0
    s = rig.sync(202)
    assert s.runs["./contacts"].counters.remote_added == 1 and rig.same()
    s = rig.sync(205)
    assert s.runs["./contacts"].counters.local_added == 5 and rig.same()
    (rig.folder.path / "y.vcf").write_bytes(make_vcards(1, seed=7)["c7-000001.vcf"])
    s = rig.sync(203)
    assert s.runs["./contacts"].counters.remote_added == 6 and rig.same()
    assert len(server_items(gw)) == 6


def test_md5_nonce_is_kept_per_server_and_used_next_time(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.XML)
    assert rig.sync(201).ok
    nonce = rig.state.nonces["http://sync.test/sync"]
    assert nonce
    second = rig.sync(200)
    assert second.ok and second.auth.retries == 0        # the kept nonce was accepted
    assert rig.state.nonces["http://sync.test/sync"] != nonce


def test_server_challenge_switches_auth_type(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.WBXML, auth_types=("syncml:auth-md5",))
    s = rig.sync(201, auth="syncml:auth-basic")
    assert s.ok and s.auth.retries == 1 and s.auth.type == "syncml:auth-md5"


def test_basic_auth(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.XML, auth_types=("syncml:auth-basic",))
    assert rig.sync(201, auth="syncml:auth-basic").ok


def test_wrong_password_is_an_auth_error(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.XML)
    with pytest.raises(AuthError):
        rig.sync(201, password="wrong")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_large_objects_both_ways(gw, tmp_path, encoding):
    rig = Rig(gw, tmp_path, encoding, max_msg_size=6000)
    big = make_vcards(2, seed=8, photo_bytes=20_000)
    for name, card in big.items():
        (rig.folder.path / name).write_bytes(card)
    trace: list[bytes] = []
    session = ClientSession(settings(mode=201, encoding=encoding), rig.state,
                            {"./contacts": rig.folder}, now=rig.clock())
    run(rig.server, session, rig.clock, trace=trace)
    assert session.ok and rig.same()
    assert max(len(b) for b in trace) <= 6000 and len(trace) > 8   # split within the limit
    assert sorted(server_items(gw).values()) == sorted(big.values())   # byte-exact

    server_add(gw, make_vcards(1, seed=9, photo_bytes=15_000)["c9-000001.vcf"])
    small = ClientSession(settings(mode=200, encoding=encoding, max_msg_size=5000),
                          rig.state, {"./contacts": rig.folder}, now=rig.clock())
    run(rig.server, small, rig.clock)
    assert small.ok and small.messages > 3 and rig.same()


def test_suspend_and_resume(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.XML, max_msg_size=4000)
    for name, card in make_vcards(30, seed=10).items():
        (rig.folder.path / name).write_bytes(card)
    first = rig.sync(201, stop_after=3)
    assert first.suspended and not first.ok
    held = len(server_items(gw))
    assert 0 < held < 30
    resume = rig.state.datastores["./contacts"].resume
    assert resume is not None and resume.mode == 201 and resume.sent
    second = rig.sync(200, resume=True)
    assert second.ok and second.runs["./contacts"].mode == 201
    assert second.runs["./contacts"].asked == 225
    assert second.runs["./contacts"].counters.remote_added == 30 - len(resume.sent)
    assert rig.same() and len(server_items(gw)) == 30
    assert rig.state.datastores["./contacts"].resume is None


def test_devinf_exchange_alone(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.WBXML)
    session = ClientSession(settings(encoding=codec.WBXML), rig.state, {}, now=rig.clock(),
                            devinf_only=True)
    run(rig.server, session, rig.clock)
    assert session.done and session.server_devinf is not None
    assert session.server_devinf.dev_id == "omads-gateway"
    assert any(ds.source_ref == "contacts" for ds in session.server_devinf.datastores)
    assert "http://sync.test/sync" in rig.state.server_devinf


def test_the_sans_io_verbs_and_events(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.XML)
    for name, card in make_vcards(3, seed=11).items():
        (rig.folder.path / name).write_bytes(card)
    session = ClientSession(settings(mode=201, encoding=codec.XML), rig.state,
                            {"./contacts": rig.folder}, now=rig.clock())
    assert session.next_deadline() is None and session.next_event() is None
    session.handle_timeout(rig.clock())                  # nothing is timed
    with pytest.raises(LocalProtocolError):
        session.receive_data(b"", rig.clock())          # package 1 not taken yet
    with pytest.raises(LocalProtocolError):
        session.send(ModeSettled(datastore="./contacts", mode=200), rig.clock())
    got, key = [], None
    while (body := session.data_to_send()) is not None:
        assert body and session.data_to_send() == b""   # given once; its reply is due
        resp = rig.server.handle(Request(body=body, content_type=session.content_type,
                                         session=key, base_url=BASE, now=rig.clock()))
        key = resp.session
        session.receive_data(resp.body, rig.clock(), content_type=resp.content_type)
        got += iter(session.next_event, None)
    assert got.count(ModeSettled(datastore="./contacts", mode=201)) == 1
    exchanged = [e for e in got if isinstance(e, Exchanged)]
    assert len(exchanged) == session.messages > 2
    assert [e.messages_received for e in exchanged] == list(range(1, session.messages + 1))
    assert exchanged[-1].items_sent == 3 and exchanged[-1].items_received == 0
    assert exchanged[-1].bytes_sent == session.bytes_sent
    assert got[-1] == SessionEnded(ok=True, suspended=False) and session.ok
    assert session.data_to_send() is None
    with pytest.raises(LocalProtocolError, match="over"):
        session.receive_data(resp.body, rig.clock(), content_type=resp.content_type)
    assert rig.same()


def test_a_refused_session_ends_with_its_error_as_an_event(gw, tmp_path):
    rig = Rig(gw, tmp_path, codec.WBXML)
    session = ClientSession(settings(mode=201, encoding=codec.WBXML, password="wrong"),
                            rig.state, {"./contacts": rig.folder}, now=rig.clock())
    ended = []
    while (body := session.data_to_send()) is not None:
        key = parse_qs(urlsplit(session.url).query).get("s", [None])[0]
        resp = rig.server.handle(Request(body=body, content_type=session.content_type,
                                         session=key, base_url=BASE, now=rig.clock()))
        session.receive_data(resp.body, rig.clock(), content_type=resp.content_type)
        ended += [e for e in iter(session.next_event, None) if isinstance(e, SessionEnded)]
    assert len(ended) == 1 and not ended[0].ok and isinstance(ended[0].error, AuthError)
    assert session.auth.retries == 3 and not session.ok


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_server_item_deleted_on_the_client_is_deleted_on_the_server(gw, tmp_path, encoding):
    rig = Rig(gw, tmp_path, encoding)
    mine = make_vcards(2, seed=12)
    for name, card in mine.items():
        (rig.folder.path / name).write_bytes(card)
    server_add(gw, make_vcards(1, seed=13)["c13-000001.vcf"])
    assert rig.sync(201).ok and len(server_items(gw)) == 3
    theirs = [p for p in rig.folder.path.glob("*.vcf") if p.name not in mine]
    assert len(theirs) == 1                         # the server's item, under our LUID
    theirs[0].unlink()
    (rig.folder.path / sorted(mine)[0]).unlink()    # and one of ours
    s = rig.sync(200)
    assert s.ok and s.runs["./contacts"].counters.remote_deleted == 2
    assert len(server_items(gw)) == 1 and rig.same()
