"""SIP MESSAGE/NOTIFY with binary SAN bodies, parsing, digest auth and the UDP timers."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import sip, sip_auth
from gateway.notify import sip_client as sc
from gateway.notify.errors import SIPDecodeError
from gateway.syncml.errors import LocalProtocolError

SAN = bytes.fromhex("00112233445566778899aabbccddeeff02d80000000000000a") + b"\r\n\x00\xff"


def test_build_message_bytes():
    """A MESSAGE outside a dialog: the exact header block, then the binary body."""
    req = sip.build_request(
        method="MESSAGE", request_uri="sip:+4912345678@ims.example",
        to_uri="sip:+4912345678@ims.example", from_uri="sip:omads@gw.example", from_tag="f00d",
        call_id="c1@gw.example", cseq=7, branch="z9hG4bK1234", via_host="192.0.2.1",
        via_port=5070, body=SAN, extra_headers=sip.san_headers())
    assert bytes(req) == (
        b"MESSAGE sip:+4912345678@ims.example SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK1234;rport\r\n"
        b"Max-Forwards: 70\r\n"
        b"From: <sip:omads@gw.example>;tag=f00d\r\n"
        b"To: <sip:+4912345678@ims.example>\r\n"
        b"Call-ID: c1@gw.example\r\n"
        b"CSeq: 7 MESSAGE\r\n"
        b'Accept-Contact: *;+g.oma.pusheventapp="push.syncml";require;explicit\r\n'
        b"Content-Type: application/vnd.syncml.ds.notification\r\n"
        b"Content-Length: 29\r\n"      # 25 + 4 body bytes
        b"\r\n" + SAN)
    assert sip.parse_message(bytes(req)) == req


def test_notify_headers():
    hdrs = dict(sip.san_headers(method="NOTIFY", accept_contact=None, event="syncml-notification"))
    assert hdrs == {"Event": "syncml-notification", "Subscription-State": "terminated"}
    with pytest.raises(ValueError):
        sip.san_headers(method="NOTIFY")


def test_header_injection_refused():
    with pytest.raises(ValueError):
        sip.build_request(method="MESSAGE", request_uri="sip:a", to_uri="sip:a\r\nX: y",
                          from_uri="sip:b", from_tag="t", call_id="c", cseq=1,
                          branch="z9hG4bKx", via_host="h", via_port=1)


def test_parse_compact_and_folded_response():
    data = (b"SIP/2.0 401 Unauthorized\r\n"
            b"v: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKabc;received=192.0.2.1, "
            b"SIP/2.0/UDP other;branch=z9hG4bKzzz\r\n"
            b"f: <sip:omads@gw.example>;tag=f00d\r\n"
            b"t: <sip:+49@ims.example>;tag=99\r\n"
            b"i: c1@gw.example\r\n"
            b"CSeq: 7 MESSAGE\r\n"
            b'WWW-Authenticate: Digest realm="ims.example",\r\n'
            b'  nonce="abc", qop="auth"\r\n'
            b"l: 2\r\n\r\nokEXTRA")
    msg = sip.parse_message(data)
    assert isinstance(msg, sip.SipResponse)
    assert (msg.status, msg.reason) == (401, "Unauthorized")
    assert msg.header("call-id") == "c1@gw.example" and msg.header("Call-ID") == msg.header("i")
    assert sip.top_via_branch(msg) == "z9hG4bKabc"
    assert sip.cseq_of(msg) == (7, "MESSAGE")
    assert msg.header("WWW-Authenticate") == 'Digest realm="ims.example", nonce="abc", qop="auth"'
    assert msg.body == b"ok"


@pytest.mark.parametrize("data", [
    b"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nabc",
    b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",
    b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n",
    b"SIP/2.0 200 OK\r\n",
    b"SIP/2.0 200 OK\r\n\xff: x\r\n\r\n",
])
def test_bad_messages(data):
    with pytest.raises(SIPDecodeError):
        sip.parse_message(data)


def test_stream_requires_content_length():
    with pytest.raises(SIPDecodeError):
        sip.parse_message(b"SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\n\r\n", stream=True)
    assert sip.parse_message(b"SIP/2.0 200 OK\r\n\r\nrest").body == b"rest"


header_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1,
                        max_size=30)


@given(st.binary(max_size=300), st.lists(st.tuples(
    st.from_regex(r"X-[A-Za-z]{1,10}", fullmatch=True), header_values), max_size=5))
@settings(max_examples=200)
def test_request_round_trip(body, extra):
    req = sip.build_request(method="MESSAGE", request_uri="sip:a@b", to_uri="sip:a@b",
                            from_uri="sip:c@d", from_tag="t", call_id="id", cseq=1,
                            branch="z9hG4bKq", via_host="h", via_port=5060, body=body,
                            extra_headers=tuple(extra))
    assert sip.parse_message(bytes(req)) == req


@given(st.binary(max_size=400))
@settings(max_examples=500)
def test_arbitrary_bytes_raise_only_decode_error(data):
    try:
        sip.parse_message(data)
    except SIPDecodeError:
        pass


@given(st.text(max_size=120))
@settings(max_examples=300)
def test_arbitrary_challenges_raise_only_decode_error(text):
    try:
        sip_auth.parse_challenge("Digest " + text)
    except SIPDecodeError:
        pass


# -- digest ---------------------------------------------------------------------------------


def test_rfc2617_example():
    """RFC 2617 §3.5: Mufasa / 'Circle Of Life' -> 6629fae49393a05397450978507c4ef1."""
    assert sip_auth.digest_response(
        username="Mufasa", password="Circle Of Life", realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", method="GET", uri="/dir/index.html",
        qop="auth", nc=1, cnonce="0a4f113b") == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize("algorithm,expected", [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")])
def test_rfc7616_examples(algorithm, expected):
    """RFC 7616 §3.9.1 examples."""
    assert sip_auth.digest_response(
        username="Mufasa", password="Circle of Life", realm="http-auth@example.org",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", method="GET",
        uri="/dir/index.html", algorithm=algorithm, qop="auth", nc=1,
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ") == expected


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def test_rfc2069_form_without_qop():
    got = sip_auth.digest_response(username="u", password="p", realm="r", nonce="n",
                                   method="MESSAGE", uri="sip:x")
    assert got == md5(f"{md5('u:r:p')}:n:{md5('MESSAGE:sip:x')}")


def test_parse_challenge_and_answer():
    ch = sip_auth.parse_challenge(
        'Digest realm="ims.example", nonce="a\\"b", qop="auth,auth-int", '
        'algorithm=MD5, opaque="op", stale=TRUE')
    assert ch == sip_auth.Challenge(realm="ims.example", nonce='a"b', algorithm="MD5",
                                    qop=("auth", "auth-int"), opaque="op", stale=True)
    value = sip_auth.authorization(ch, username="alice", password="pw", method="MESSAGE",
                                   uri="sip:bob@ims.example", cnonce="cn", nc=2)
    resp = md5(f"{md5('alice:ims.example:pw')}:a\"b:00000002:cn:auth:"
               f"{md5('MESSAGE:sip:bob@ims.example')}")
    assert value == (f'Digest username="alice", realm="ims.example", nonce="a\\"b", '
                     f'uri="sip:bob@ims.example", response="{resp}", algorithm=MD5, qop=auth, '
                     f'nc=00000002, cnonce="cn", opaque="op"')


@pytest.mark.parametrize("value", ['Basic realm="x"', 'Digest realm="x"', "Digest nonce=1,,"])
def test_bad_challenges(value):
    with pytest.raises(SIPDecodeError):
        sip_auth.parse_challenge(value)


# -- transaction and sender ---------------------------------------------------------------


CONFIG = sc.SipConfig(target_uri="sip:+4912345678@127.0.0.1:15070", from_uri="sip:omads@gw",
                      via_host="127.0.0.1", via_port=5070, username="omads", password="secret")


def sender(config=CONFIG, now=0.0):
    """A SanSender that sent SAN at ``now``: (the sender, the messages it sent)."""
    s = sc.SanSender(config, rng=random.Random(7))
    return s, s.send(sc.SendSan(body=SAN), now)


def answer(req_bytes: bytes, status: int, reason: str, *extra: str, body: bytes = b"") -> bytes:
    """A UAS-side response built from the request's own headers (RFC 3261 §8.2.6.2)."""
    req = sip.parse_message(req_bytes)
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"{n}: {req.header(n)}" for n in ("Via", "From", "To", "Call-ID", "CSeq")]
    lines += list(extra) + [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


def test_udp_retransmissions_and_timer_f():
    """Timer E doubles from T1 to the T2 cap; timer F ends it at 64*T1 with SipFailed."""
    s, first = sender()
    assert len(first) == 1
    fired = []
    while (dl := s.next_deadline()) is not None:
        s.handle_timeout(dl)
        if s.data_to_send() == first:
            fired.append(dl)
    assert fired == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert s.next_event() == sc.SipFailed(status=None, reason="timeout (timer F)")
    assert s.tx.state is sc.TxState.TERMINATED


def test_provisional_moves_to_t2_retransmits():
    s, [req] = sender()
    s.handle_timeout(0.5)
    s.data_to_send()
    s.receive_data(answer(req, 100, "Trying"), 0.7)
    assert s.next_event() == sc.SipProvisional(status=100, reason="Trying")
    assert s.tx.state is sc.TxState.PROCEEDING
    times = []
    for _ in range(3):
        dl = s.next_deadline()
        s.handle_timeout(dl)
        assert s.data_to_send() == [req]
        times.append(dl)
    assert times == [1.5, 5.5, 9.5]        # first pending E, then every T2


def test_delivered_and_retransmitted_200_absorbed():
    s, [req] = sender()
    ok = answer(req, 200, "OK")
    s.receive_data(ok, 0.1)
    s.receive_data(ok, 0.2)
    assert s.next_event() == sc.SipDelivered(status=200, reason="OK")
    assert s.next_event() is None
    assert s.tx.state is sc.TxState.COMPLETED and s.next_deadline() == 0.1 + sc.T4
    s.handle_timeout(5.1)
    assert s.tx.state is sc.TxState.TERMINATED and s.next_deadline() is None


def test_stray_responses_ignored():
    s, [req] = sender()
    s.receive_data(answer(req, 200, "OK").replace(s.branch.encode(), b"z9hG4bKother"), 0.1)
    assert s.next_event() is None and s.tx.state is sc.TxState.TRYING
    with pytest.raises(SIPDecodeError):
        s.receive_data(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n", 0.1)


@pytest.mark.parametrize("status,challenge_hdr,auth_hdr", [
    (401, "WWW-Authenticate", "Authorization"),
    (407, "Proxy-Authenticate", "Proxy-Authorization")])
def test_digest_challenge_answered(status, challenge_hdr, auth_hdr):
    """401/407 -> the request again with credentials, CSeq+1, same Call-ID and tag."""
    s, [req1] = sender()
    first = sip.parse_message(req1)
    s.receive_data(answer(req1, status, "Auth",
                          f'{challenge_hdr}: Digest realm="ims", nonce="n0", qop="auth"'), 0.2)
    assert s.next_event() is None
    [req2] = s.data_to_send()
    second = sip.parse_message(req2)
    assert sip.cseq_of(second) == (sip.cseq_of(first)[0] + 1, "MESSAGE")
    assert second.header("Call-ID") == first.header("Call-ID")
    assert second.header("From") == first.header("From")
    assert sip.top_via_branch(second) != sip.top_via_branch(first)
    assert second.body == SAN
    auth = second.header(auth_hdr)
    ch = sip_auth.parse_challenge(auth)          # same key=value syntax
    cnonce = auth.split('cnonce="')[1].split('"')[0]
    assert ch.nonce == "n0" and "nc=00000001" in auth
    expected = md5(f"{md5('omads:ims:secret')}:n0:00000001:{cnonce}:auth:"
                   f"{md5('MESSAGE:' + CONFIG.target_uri)}")
    assert f'response="{expected}"' in auth
    s.receive_data(answer(req2, 202, "Accepted"), 0.3)
    assert s.next_event() == sc.SipDelivered(status=202, reason="Accepted")


def test_rejected_credentials_end_in_failure():
    s, out = sender()
    for _ in range(3):
        [req] = out
        s.receive_data(answer(req, 401, "Unauthorized",
                              'WWW-Authenticate: Digest realm="r", nonce="n"'), 0.1)
        out = s.data_to_send()
    assert s.auth_attempts == 2
    assert s.next_event() == sc.SipFailed(status=401, reason="Unauthorized")
    assert s.data_to_send() == []


def test_no_credentials_fails_on_challenge():
    s, [req] = sender(sc.SipConfig(target_uri="sip:a@b", from_uri="sip:c@d", via_host="h"))
    s.receive_data(answer(req, 401, "Unauthorized",
                          'WWW-Authenticate: Digest realm="r", nonce="n"'), 0)
    assert s.next_event() == sc.SipFailed(status=401, reason="Unauthorized")


def test_error_response():
    s, [req] = sender()
    s.receive_data(answer(req, 415, "Unsupported Media Type"), 0.1)
    assert s.next_event() == sc.SipFailed(status=415, reason="Unsupported Media Type")


def test_notify_over_tcp_has_no_retransmissions():
    cfg = sc.SipConfig(target_uri="sip:a@b", from_uri="sip:c@d", via_host="h", transport="TCP",
                       method="NOTIFY", event="syncml-notification", accept_contact=None)
    s, [req] = sender(cfg)
    parsed = sip.parse_message(req)
    assert parsed.method == "NOTIFY" and parsed.header("Event") == "syncml-notification"
    assert parsed.header("Subscription-State") == "terminated"
    assert parsed.header("Via").startswith("SIP/2.0/TCP ")
    assert s.next_deadline() == 32.0            # only timer F
    s.handle_timeout(32.0)
    assert s.data_to_send() == []
    assert s.next_event() == sc.SipFailed(status=None, reason="timeout (timer F)")


def test_same_seed_same_request():
    """All randomness comes from the injected rng."""
    assert sender()[1] == sender()[1]


def test_oversized_udp_body_refused():
    with pytest.raises(ValueError):
        sc.SanSender(CONFIG, rng=random.Random(1)).send(sc.SendSan(body=bytes(1000)), 0.0)


def test_connection_closed_ends_the_transaction():
    """On TCP the host gives ``b""`` when the connection closes: a failure, timers off."""
    cfg = sc.SipConfig(target_uri="sip:a@b", from_uri="sip:c@d", via_host="h", transport="TCP")
    s, [req] = sender(cfg)
    s.receive_data(b"", 1.0)
    assert s.next_event() == sc.SipFailed(status=None, reason="connection closed")
    assert s.tx.state is sc.TxState.TERMINATED and s.next_deadline() is None
    s.receive_data(b"", 2.0)                         # once only
    assert s.next_event() is None


def test_sender_misuse():
    s = sc.SanSender(CONFIG, rng=random.Random(7))
    assert s.data_to_send() == [] and s.next_deadline() is None
    with pytest.raises(LocalProtocolError):
        s.receive_data(b"SIP/2.0 200 OK\r\n\r\n", 0.0)        # nothing sent yet
    s.send(sc.SendSan(body=SAN), 0.0)
    with pytest.raises(LocalProtocolError):
        s.send(sc.SendSan(body=SAN), 0.0)                     # one SAN per sender


def test_split_stream_frames_by_content_length():
    one = b"SIP/2.0 200 OK\r\nCSeq: 1 MESSAGE\r\nContent-Length: 3\r\n\r\nabc"
    two = b"SIP/2.0 100 Trying\r\nl: 0\r\n\r\n"
    data = one + two + b"SIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nab"
    messages, rest = sip.split_stream(data)
    assert messages == [one, two] and rest == data[len(one + two):]
    for i in range(len(data)):                        # fed in two pieces: the same cut
        first, rest1 = sip.split_stream(data[:i])
        second, rest2 = sip.split_stream(rest1 + data[i:])
        assert first + second == [one, two] and rest2 == rest
