"""auth-MAC (omads-protocol.md §4.1): the x-syncml-hmac header parser, the mac math, and
the server engine's decisions (212/401/406/407, nonce rotation, replay, throttling)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from gateway.ds.hmac import (
    MAC, HmacHeader, HmacSyntaxError, compute_mac, format_header, parse_header, read_header,
)
from gateway.ds.server.handler import Request
from gateway.store.accounts import make_secret
from gateway.syncml import codec
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Alert, Cred, Item, Location, Status
from tests.ds.simclient import SimClient, vcard

MAC_FIRST = (MAC, "syncml:auth-md5")


# -- the header parser ------------------------------------------------------------------

def test_parse_full_header():
    h = parse_header('algorithm=MD5, username="alice", mac=q1w2e3r4t5y6u7i8o9p0aA==')
    assert h == HmacHeader(username="alice", mac="q1w2e3r4t5y6u7i8o9p0aA==", algorithm="MD5")


def test_parse_algorithm_defaults_to_md5_and_order_is_free():
    h = parse_header('mac="AAAA/+==" ,username=bob')
    assert (h.username, h.mac, h.algorithm) == ("bob", "AAAA/+==", "MD5")


def test_parse_names_are_case_insensitive_and_whitespace_is_optional():
    h = parse_header(b'  Algorithm = md5 ,\tUserName="al ice",MAC=xyz  ')
    assert (h.username, h.mac, h.algorithm) == ("al ice", "xyz", "md5")


def test_parse_quoted_string_escapes_and_commas():
    h = parse_header(r'username="a\"b\\c, d", mac="m"')
    assert h.username == 'a"b\\c, d'
    assert h.mac == "m"


def test_parse_unknown_parameters_are_ignored():
    assert parse_header('username=u, realm="x", mac=m').username == "u"


@pytest.mark.parametrize("text, why", [
    ("", "username"),
    ("mac=abc", "username"),
    ('username="alice"', "mac"),
    ('username="", mac=abc', "username"),
    ('username=alice, mac=""', "mac"),
    ("garbage", "name=value"),
    ("username=", "empty"),
    ('username="alice, mac=abc', "unterminated"),
    ("username=alice mac=abc", "','"),
    ("username=alice,, mac=abc", "name"),
    ("username=alice, mac=abc,", "trailing"),
    ("username=a, username=b, mac=c", "twice"),
    ("username=al\x00ice, mac=c", "control"),
    ("user name=a, mac=c", "name"),
    ("=x, username=a, mac=c", "name"),
    ("username=a, mac=" + "A" * 2000, "longer"),
])
def test_parse_refuses_bad_headers(text, why):
    with pytest.raises(HmacSyntaxError, match=why):
        parse_header(text)


def test_parse_refuses_non_utf8_bytes():
    with pytest.raises(HmacSyntaxError):
        parse_header(b'username="\xff\xfe", mac=abc')


def test_read_header_absent_bad_and_repeated():
    assert read_header(None) is None
    assert read_header([]) is None
    good = read_header([b'username="alice", mac=abc'])
    assert good == HmacHeader(username="alice", mac="abc")
    assert good.error is None
    bad = read_header([b"nonsense"])
    assert bad is not None and bad.error and not bad.username
    twice = read_header([b"username=a, mac=b", b"username=a, mac=b"])
    assert twice is not None and "more than once" in twice.error


@given(hs.one_of(hs.binary(max_size=200), hs.text(max_size=200)))
def test_read_header_never_raises(raw):
    out = read_header([raw])
    assert isinstance(out, HmacHeader)
    assert (out.error is None) == bool(out.username and out.mac)


_NAMES = hs.text(hs.characters(min_codepoint=0x20, blacklist_categories=("Cs",),
                               blacklist_characters="\x7f"), min_size=1, max_size=40)


@given(_NAMES, hs.text("ABCDEFabcdef0123456789+/=", min_size=1, max_size=30))
def test_format_then_parse_round_trips(username, mac):
    assert parse_header(format_header(username, mac)) == HmacHeader(username=username, mac=mac)


# -- the math ---------------------------------------------------------------------------

def _b64md5(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


def test_mac_worked_vector():
    user, password = "alice", "secret"
    nonce = b"\x00\x01nonce\xff"
    body = b"<SyncML><SyncHdr/><SyncBody><Final/></SyncBody></SyncML>"
    # independently: B64(MD5( B64(MD5("user:password")) ":" nonce ":" B64(MD5(body)) ))
    step1 = _b64md5(b"alice:secret")
    step2 = _b64md5(body)
    expected = _b64md5(step1 + b":" + nonce + b":" + step2).decode()
    assert make_secret(user, password) == step1.decode()
    assert compute_mac(make_secret(user, password), nonce, body) == expected
    assert len(expected) == 24 and expected.endswith("==")
    # every input matters
    assert compute_mac(make_secret(user, password), b"", body) != expected
    assert compute_mac(make_secret(user, password), nonce, body + b" ") != expected
    assert compute_mac(make_secret(user, "Secret"), nonce, body) != expected


# -- the engine -------------------------------------------------------------------------

@dataclass
class Signer:
    """Stands between a SimClient and the server; adds an x-syncml-hmac header to each
    request, signing the exact body with the client's current nonce."""

    server: object
    client: SimClient | None = None
    header: str | None = "auto"                  # "auto": compute; None: send none
    tamper: bytes = b""                          # signed body = body + tamper
    as_user: tuple[str, str] | None = None       # sign as this (user, password) instead
    requests: list = field(default_factory=list)

    def handle(self, request: Request):
        c = self.client
        if self.header == "auto":
            user, password = self.as_user or (c.user, c.password)
            mac = compute_mac(make_secret(user, password), c.nonce, request.body + self.tamper)
            value = format_header(user, mac)
        else:
            value = self.header
        request = replace(request, hmac=read_header([value] if value is not None else None))
        self.requests.append(request)
        return self.server.handle(request)


def mac_client(server, **kw) -> tuple[SimClient, Signer]:
    signer = Signer(server)
    kw.setdefault("auth", "none")                # no Cred: the header authenticates
    client = SimClient(signer, **kw)
    signer.client = client
    return client, signer


def hdr_status(reply) -> Status:
    return next(c for c in reply.commands if isinstance(c, Status) and c.cmd == "SyncHdr")


def alert_cmd() -> Alert:
    return Alert(data=201, items=(Item(target=Location(loc_uri="contacts"),
                                       source=Location(loc_uri="./contacts")),))


def device_nonce(store, device="sim-device") -> bytes:
    with store.transaction() as tx:
        dev = tx.get_device(device)
        return bytes(dev.nonce) if dev is not None else b""


@pytest.mark.parametrize("encoding", [codec.XML, codec.WBXML])
def test_right_mac_212_with_fresh_mac_nonce(make_server, store, encoding):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST), encoding=encoding)
    reply = c.send([alert_cmd()], with_cred=True)
    st = hdr_status(reply)
    assert st.data == 212
    assert st.chal.meta.type == MAC and st.chal.meta.format == "b64"
    assert device_nonce(store) == base64.b64decode(st.chal.meta.next_nonce) != b""
    assert c.log[-1].request.header.cred is None
    assert any(isinstance(x, Alert) and x.data == 201 for x in reply.commands)


def test_whole_sessions_with_hmac_and_nonce_rotation(make_server, store):
    c, _ = mac_client(make_server(auth_types=MAC_FIRST))
    c.items["1"] = vcard(1)
    assert c.sync(201)[0] == 201
    first = c.nonce
    assert first and device_nonce(store) == first
    assert c.sync(200)[0] == 200                 # the next session signs with that nonce
    assert c.nonce != first and device_nonce(store) == c.nonce
    with store.transaction() as tx:
        assert len(list(tx.list_items("alice", "contacts"))) == 1


def test_wrong_mac_401_with_new_nonce_then_retry_works(make_server, store):
    c, _ = mac_client(make_server(auth_types=MAC_FIRST), password="wrong")
    before = device_nonce(store)
    reply = c.send([alert_cmd()], with_cred=True)
    st = hdr_status(reply)
    assert st.data == 401 and st.chal.meta.type == MAC
    fresh = base64.b64decode(st.chal.meta.next_nonce)
    assert fresh != before and device_nonce(store) == fresh
    assert [s.data for s in reply.commands if isinstance(s, Status) and s.cmd == "Alert"] == [401]
    assert not any(isinstance(x, Alert) for x in reply.commands)
    c.password = "secret"                        # same session, signed with the new nonce
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 212


def test_mac_over_other_bytes_than_received_is_refused(make_server):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST))
    signer.tamper = b"\n"                        # e.g. a proxy re-encoded the body
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401


def test_missing_header_and_cred_407_with_mac_challenge(make_server):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST))
    signer.header = None
    st = hdr_status(c.send([alert_cmd()], with_cred=True))
    assert st.data == 407
    assert st.chal.meta.type == MAC and st.chal.meta.next_nonce


@pytest.mark.parametrize("value", ["garbage", 'username="alice', "mac=abc", "", ",,,"])
def test_unparsable_header_is_bad_credentials(make_server, value):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST))
    signer.header = value
    st = hdr_status(c.send([alert_cmd()], with_cred=True))
    assert st.data == 401 and st.chal.meta.type == MAC


def test_username_must_match_locname(make_server):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST))
    signer.as_user = ("bob", "pw")               # a valid mac of bob's, LocName alice
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401
    c.user, c.password = "bob", "pw"             # LocName bob, header bob: accepted
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 212


def test_unknown_algorithm_406(make_server):
    c, signer = mac_client(make_server(auth_types=MAC_FIRST))
    signer.header = 'algorithm=SHA-256, username="alice", mac=abc'
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 406


def test_replayed_request_with_old_nonce_refused(make_server):
    server = make_server(auth_types=MAC_FIRST)
    c, signer = mac_client(server)
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 212
    captured = signer.requests[0]
    assert captured.session is None and captured.hmac.error is None
    replay = server.handle(replace(captured, now=captured.now + 5))   # a new session
    assert hdr_status(codec.decode_message(replay.body, replay.content_type)).data == 401


def test_throttling_applies_to_hmac_failures(make_server):
    server = make_server(auth_types=MAC_FIRST, max_failed_logins=3, failed_login_window=100.0)
    c, _ = mac_client(server, password="wrong")
    for _ in range(3):
        c.session = None
        assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401
    c.password = "secret"                        # now even a right mac is refused ...
    c.session = None
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401
    d, _ = mac_client(server, device_id="dev2")   # ... also for a device at the same address
    assert hdr_status(d.send([alert_cmd()], with_cred=True)).data == 401
    c.now += 200                                 # after the window it works again
    c.session = None
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 212


def test_header_ignored_unless_configured(make_server):
    server = make_server()                       # md5 + basic only
    c, _ = mac_client(server)
    st = hdr_status(c.send([alert_cmd()], with_cred=True))
    assert st.data == 401 and st.chal.meta.type == "syncml:auth-md5"
    md5, _ = mac_client(server, auth="md5", device_id="dev-md5")
    assert hdr_status(md5.send([alert_cmd()], with_cred=True)).data == 212   # Cred wins


def test_cred_claiming_auth_mac_is_not_accepted(make_server):
    c = SimClient(make_server(auth_types=MAC_FIRST))
    hdr = replace(c.header(False), cred=Cred(meta=Meta(type=MAC), data="x"))
    assert hdr_status(c.send([alert_cmd()], raw_header=hdr)).data == 406


def test_basic_login_gets_the_first_configured_nonce_type(make_server):
    c = SimClient(make_server(auth_types=("syncml:auth-basic", MAC)), auth="basic")
    st = hdr_status(c.send([alert_cmd()], with_cred=True))
    assert st.data == 212 and st.chal.meta.type == MAC


def test_auth_types_validation():
    from gateway.ds.settings import ServerSettings
    assert ServerSettings(auth_types=(MAC,)).auth_types == (MAC,)
    with pytest.raises(ValueError):
        ServerSettings(auth_types=("syncml:auth-mac-sha1",))
