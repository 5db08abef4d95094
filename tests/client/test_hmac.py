"""omads-sync with auth-MAC (x-syncml-hmac, omads-protocol.md §4.1): the engine in-process
against the server engine, the options and profiles, and the real gateway daemon."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.peers import start_gateway
from gateway.client import profiles
from gateway.client.folder import FolderStore
from gateway.ds.client.engine import ClientSession
from gateway.ds.client.errors import AuthError, ConfigError
from gateway.ds.client.settings import ClientSettings
from gateway.ds.client.state import ClientState
from gateway.ds.hmac import HEADER, MAC, compute_mac, parse_header, read_header
from gateway.ds.server.handler import Request, SyncServer
from gateway.ds.settings import ServerSettings
from gateway.store.accounts import make_secret
from gateway.syncml import codec
from tests.client.helpers import BASE, Clock, events, server_items, settings
from tests.client.runcli import check, contacts, folder_items, omads_sync, summary_row
from tests.client.scenario import walk_all_modes
from tests.interop.gateway import Gateway, interop_config
from tests.interop.syncevo import free_port
from tests.interop.vcards import make_vcards

ENCODINGS = [codec.XML, codec.WBXML]


def run_http(server: SyncServer, session: ClientSession, clock: Clock, trace: list) -> None:
    """Drive a session as the HTTP binding would: the engine's headers travel too."""
    while (body := session.data_to_send()) is not None:
        headers = session.transport_headers(body)
        trace.append((body, headers))
        key = parse_qs(urlsplit(session.url).query).get("s", [None])[0]
        value = headers.get(HEADER)
        resp = server.handle(Request(body=body, content_type=session.content_type, session=key,
                                     base_url=BASE, now=clock(),
                                     hmac=read_header([value] if value else None)))
        session.receive_data(resp.body, clock(), content_type=resp.content_type)
        events(session)


class Rig:
    def __init__(self, gw, tmp_path, **server_kw):
        self.server = SyncServer(ServerSettings(**server_kw), gw)
        self.folder = FolderStore(tmp_path / "items")
        self.state = ClientState()
        self.clock = Clock()
        self.trace: list = []

    def sync(self, mode=200, **kw) -> ClientSession:
        self.trace = []
        session = ClientSession(settings(mode=mode, **kw), self.state,
                                {"./contacts": self.folder}, now=self.clock())
        run_http(self.server, session, self.clock, self.trace)
        return session


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_hmac_sessions_in_process(gw, tmp_path, encoding):
    rig = Rig(gw, tmp_path, auth_types=(MAC,))
    for name, card in make_vcards(4, seed=31).items():
        (rig.folder.path / name).write_bytes(card)
    first = rig.sync(200, encoding=encoding, auth=MAC)
    assert first.ok and first.auth.retries == 0 and first.auth.type == MAC
    assert contacts(folder_items(rig.folder.path)) == contacts(server_items(gw))
    nonce = rig.state.nonces[BASE]
    nonces = [nonce]
    for body, headers in rig.trace:              # no Cred; every POST signed, exactly
        assert codec.decode_message(body, encoding).header.cred is None
        h = parse_header(headers[HEADER])
        assert h.username == "alice" and h.algorithm == "MD5"
    # the first message was signed with the empty nonce, over its exact bytes
    body0, headers0 = rig.trace[0]
    assert parse_header(headers0[HEADER]).mac == compute_mac(make_secret("alice", "secret"),
                                                             b"", body0)
    second = rig.sync(200, encoding=encoding, auth=MAC)   # the kept nonce is accepted
    assert second.ok and second.auth.retries == 0
    assert rig.state.nonces[BASE] not in nonces


def test_challenge_switches_to_hmac(gw, tmp_path):
    rig = Rig(gw, tmp_path, auth_types=(MAC,))
    s = rig.sync(201, encoding=codec.WBXML, auth="syncml:auth-md5")
    assert s.ok and s.auth.retries == 1 and s.auth.type == MAC
    assert rig.state.auth_types[BASE] == MAC
    first, retry = rig.trace[0], rig.trace[1]
    assert codec.decode_message(first[0], codec.WBXML).header.cred is not None and not first[1]
    assert codec.decode_message(retry[0], codec.WBXML).header.cred is None and retry[1]
    # the next session starts with hmac at once
    assert rig.sync(200, encoding=codec.WBXML, auth="syncml:auth-md5").auth.retries == 0


def test_wrong_password_is_an_auth_error(gw, tmp_path):
    rig = Rig(gw, tmp_path, auth_types=(MAC,))
    with pytest.raises(AuthError):
        rig.sync(201, encoding=codec.XML, auth=MAC, password="wrong")


def test_other_auth_types_add_no_header(gw, tmp_path):
    rig = Rig(gw, tmp_path)
    assert rig.sync(201, encoding=codec.XML).ok
    assert all(headers == {} for _, headers in rig.trace)


def test_hmac_needs_http():
    with pytest.raises(ValueError, match="http"):
        ClientSettings(url="obex://tcp:127.0.0.1:650", auth_type=MAC)
    with pytest.raises(ConfigError, match="http"):
        profiles.build("p", {"obex": "tcp:127.0.0.1:650", "auth": "hmac",
                             "datastore": [{"remote": "contacts", "store": "/tmp/x"}]})


def test_obex_session_refuses_an_hmac_challenge(gw, tmp_path):
    server = SyncServer(ServerSettings(auth_types=(MAC,)), gw)
    cs = ClientSettings(url="obex://tcp:127.0.0.1:650", username="alice", password="secret",
                        device_id="obex-dev", encoding=codec.WBXML,
                        datastores=settings(encoding=codec.WBXML).datastores)
    session = ClientSession(cs, ClientState(), {"./contacts": FolderStore(tmp_path / "i")},
                            now=1.0)
    resp = server.handle(Request(body=session.data_to_send(), content_type=codec.WBXML,
                                 session=None, base_url="obex", now=2.0))
    session.receive_data(resp.body, 3.0, content_type=resp.content_type)
    with pytest.raises(AuthError, match="HTTP"):
        events(session)


def test_profile_and_option_names(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[profile.w]\nurl = "https://gw.example/sync"\nauth = "hmac"\n'
                    '[[profile.w.datastore]]\nremote = "contacts"\nstore = "/tmp/x"\n')
    assert profiles.load(path, "w").settings.auth_type == MAC
    assert profiles.AUTHS["hmac"] == MAC


# -- the real daemon ---------------------------------------------------------------------

class HmacGateway(Gateway):
    """The interop gateway with other ``auth_types``."""

    def __init__(self, workdir: Path, auth_types: list[str]):
        def config(port: int, db: Path) -> str:
            text = interop_config(port, db)
            old = 'auth_types = ["syncml:auth-md5", "syncml:auth-basic"]'
            assert old in text
            return text.replace(old, f"auth_types = {json.dumps(auth_types)}")
        self.workdir = workdir
        self.db = workdir / "omads.sqlite"
        self.port = free_port()
        self.process = start_gateway(self.port, self.db, workdir, config=config)
        self._store = None


@pytest.fixture
def mac_gateway(tmp_path):
    gw = HmacGateway(tmp_path / "gateway", [MAC])
    yield gw
    gw.stop()


@pytest.mark.parametrize("encoding", ["xml", "wbxml"])
def test_every_mode_with_hmac_against_the_daemon(encoding, mac_gateway, tmp_path):
    walk_all_modes(link=("--url", mac_gateway.url), store=tmp_path / "items", auth="hmac",
                   encoding=encoding, device=f"omads-hmac-{encoding}",
                   server_items=mac_gateway.items, server_add=mac_gateway.add)


def test_daemon_hmac_no_cred_wrong_password_and_switch(mac_gateway, tmp_path):
    store = tmp_path / "items"
    store.mkdir()
    for name, card in make_vcards(3, seed=32).items():
        (store / name).write_bytes(card)
    base = ("--url", mac_gateway.url, "--user", "alice", "--datastore", "contacts")
    done = check(omads_sync(*base, "--password", "secret", "--auth", "hmac", "--encoding",
                            "xml", "--device-id", "hmac-v", "--store", str(store), "-v"))
    assert summary_row(done.stdout)["remote +"] == "3"
    assert "<SyncHdr>" in done.stderr and "<Cred>" not in done.stderr
    assert contacts(mac_gateway.items()) == contacts(folder_items(store))

    refused = omads_sync(*base, "--password", "wrong", "--auth", "hmac", "--device-id",
                         "hmac-bad", "--store", str(tmp_path / "bad"))
    assert refused.returncode == 4, refused.stderr
    assert "authentication" in refused.stderr

    other = tmp_path / "other"                    # md5 asked, the gateway challenges MAC
    done = check(omads_sync(*base, "--password", "secret", "--auth", "md5", "--device-id",
                            "hmac-switch", "--store", str(other), "--mode",
                            "refresh-from-server"))
    assert contacts(folder_items(other)) == contacts(mac_gateway.items())
