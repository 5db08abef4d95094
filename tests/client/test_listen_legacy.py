"""``omads-sync listen`` and the SyncML 1.1 SAN (a SyncML message as package 0): the
checks of san_forms.py, then the listener over WDP/UDP, SIP MESSAGE and SMS from a GSM
modem: a good legacy SAN starts the sync it names, a bad one is logged and ignored."""

from __future__ import annotations

import base64
import socket

import pytest

from gateway.client import san_forms
from gateway.ds.client.settings import DatastoreConfig
from gateway.notify import san as sanlib
from gateway.notify import san_legacy, sip, wsp
from gateway.syncml import codec
from gateway.syncml.items import Cred
from gateway.syncml.metinf import Meta
from tests.client.listenproc import ListenProc
from tests.client.runcli import contacts, folder_items
from tests.client.test_listen import (SERVER_ID, client_args, free_udp, good_san,
                                      listen_on_a_modem, seed)

LEGACY = "application/vnd.syncml+wbxml"
STORES = (DatastoreConfig(local_uri="./contacts", remote_uri="contacts", mode=200),
          DatastoreConfig(local_uri="./calendar", remote_uri="calendar", mode=202))
NONCE = b"legacy-nonce"


def legacy_san(*, server_id: str = SERVER_ID, password: str | None = "sanpw",
               nonce: bytes = b"", media: str = LEGACY, sync_type: int = 206,
               uri: str = "contacts", cred: Cred | None = None) -> bytes:
    san = sanlib.SAN(server_id=server_id, session_id=9, syncs=(
        sanlib.SANSync(sync_type=sync_type, content_type=0x07, server_uri=uri),))
    if cred is None and password is not None:
        cred = san_legacy.server_cred(server_id, password, nonce)
    return codec.encode_message(sanlib.legacy_san_message(san, cred=cred), media)


def legacy_push(body: bytes, media: str = LEGACY) -> bytes:
    return wsp.encode_push(wsp.WspPush(tid=3, content_type=media, body=body, headers=(
        wsp.WspHeader(name="X-Wap-Application-Id", value=wsp.SYNCML_APP_ID),)))


def check(data, content_type=None, **kw):
    kw = {"server_id": SERVER_ID, "password": "sanpw",
          "nonce_b64": base64.b64encode(NONCE).decode(), **kw}
    return san_forms.check(data, content_type, datastores=STORES, **kw)


# -- the checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("media", [LEGACY, "application/vnd.syncml+xml"])
@pytest.mark.parametrize("given", [True, False])
def test_a_good_legacy_san_is_accepted(media, given):
    data = legacy_san(nonce=NONCE, media=media, sync_type=210)
    got = check(data, media if given else None)
    assert isinstance(got, san_forms.LegacyAccepted), got
    assert got.modes == {"./contacts": 205} and got.session_id == 9     # 210 -> 205
    assert got.authenticated and got.ver_dtd == "1.1" and got.server_id == SERVER_ID


def test_without_cred_it_is_accepted_but_marked():
    got = check(legacy_san(password=None), LEGACY)
    assert isinstance(got, san_forms.LegacyAccepted) and not got.authenticated
    basic = Cred(meta=Meta(type="syncml:auth-basic", format="b64"),
                 data=base64.b64encode(f"{SERVER_ID}:sanpw".encode()).decode())
    got = check(legacy_san(cred=basic), LEGACY)
    assert isinstance(got, san_forms.LegacyAccepted) and got.authenticated


@pytest.mark.parametrize("data,ctype,reason", [
    (legacy_san(password="wrong", nonce=NONCE), LEGACY, "bad credentials"),
    (legacy_san(nonce=b"other"), LEGACY, "bad credentials"),
    (legacy_san(server_id="evil", nonce=NONCE), LEGACY, "server id 'evil'"),
    (legacy_san(nonce=NONCE, uri="tasks"), LEGACY, "none of our datastores"),
    (b"\x02\x9f\x53\x6a\x00\x01", LEGACY, "undecodable SyncML 1.1 SAN"),
    (legacy_san(nonce=NONCE), "text/plain", "not a SAN"),
    (good_san(), LEGACY, "undecodable SyncML 1.1 SAN"),         # binary labelled legacy
])
def test_bad_legacy_sans_are_refused(data, ctype, reason):
    got = check(data, ctype)
    assert isinstance(got, san_forms.Refused) and reason in got.reason, got


def test_the_binary_form_still_works_by_type_or_by_sniffing():
    for ctype in (wsp.SAN_CONTENT_TYPE, None):
        got = check(good_san(), ctype, nonce_b64="")
        assert type(got) is san_forms.Accepted and got.modes == {"./contacts": 200}
    got = check(legacy_san(nonce=NONCE), wsp.SAN_CONTENT_TYPE)     # legacy labelled 1.2:
    assert isinstance(got, san_forms.Refused), got                  # read as binary, refused


def test_unwrap_push_of_both_forms():
    body = legacy_san()
    assert san_forms.unwrap_push(legacy_push(body)) == (body, LEGACY)
    assert san_forms.unwrap_push(wsp.san_push(good_san())) == (good_san(),
                                                               wsp.SAN_CONTENT_TYPE)
    with pytest.raises(wsp.WSPDecodeError, match="not a SAN"):
        san_forms.unwrap_push(legacy_push(body, media="text/plain"))


# -- the listener, against the gateway ---------------------------------------------------------


def test_wdp_legacy_san_starts_the_sync_and_bad_ones_are_ignored(gateway, tmp_path):
    seed(gateway)
    port = free_udp()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--udp", f"127.0.0.1:{port}")
    try:
        proc.wait_for("WDP/UDP on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(legacy_push(legacy_san(password="wrong")), ("127.0.0.1", port))
            proc.wait_for("bad credentials")
            s.sendto(legacy_push(legacy_san(server_id="evil")), ("127.0.0.1", port))
            proc.wait_for("server id 'evil'")
            s.sendto(legacy_push(legacy_san()), ("127.0.0.1", port))
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert "(SyncML 1.1 form, with good credentials): syncing" in proc.stderr
    assert proc.stderr.count(": syncing") == 1, proc.stderr
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())
    assert len(gateway.items()) == 3


def _message(port: int, body: bytes, content_type: str, n: int) -> bytes:
    return bytes(sip.build_request(
        method="MESSAGE", request_uri="sip:client@127.0.0.1", to_uri="sip:client@127.0.0.1",
        from_uri="sip:gw@127.0.0.1", from_tag=f"t{n}", call_id=f"c{n}@127.0.0.1", cseq=1,
        branch=f"z9hG4bK-{n}", via_host="127.0.0.1", via_port=port, body=body,
        content_type=content_type))


def test_sip_message_with_the_legacy_san(gateway, tmp_path):
    seed(gateway)
    port = free_udp()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--sip", f"127.0.0.1:{port}")
    try:
        proc.wait_for("SIP/UDP on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.bind(("127.0.0.1", 0))
            me = s.getsockname()[1]
            s.sendto(_message(me, legacy_san(), "text/plain", 1), ("127.0.0.1", port))
            answer = sip.parse_message(s.recv(4096))
            assert answer.status == 415, answer
            assert LEGACY in (answer.header("Accept") or "")
            s.sendto(_message(me, legacy_san(), LEGACY, 2), ("127.0.0.1", port))
            answer = sip.parse_message(s.recv(4096))
            assert isinstance(answer, sip.SipResponse) and answer.status == 200
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert "content type 'text/plain' is not a SAN" in proc.stderr
    assert "(SyncML 1.1 form, with good credentials): syncing" in proc.stderr
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())


def test_sms_legacy_san_from_a_gsm_modem(gateway, tmp_path):
    seed(gateway)
    proc = listen_on_a_modem(gateway, tmp_path, legacy_push(legacy_san()), ref=6)
    assert "SyncML 1.1 form, with good credentials" in proc.stderr
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())
