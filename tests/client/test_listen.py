"""``omads-sync listen`` against the gateway: a SAN over WDP/UDP, SIP MESSAGE and SMS (a
simulated GSM modem on a pty) starts the sync it names; a bad one is logged and ignored.
Over an OBEX server link the gateway dials the client and runs the session itself."""

from __future__ import annotations

import datetime as dt
import os
import select
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from gateway.notify import sip, sms
from gateway.notify.san import SAN, SANSync, encode_san
from gateway.notify.wsp import san_push
from tests.client.listenproc import ListenProc
from tests.client.runcli import ROOT, contacts, folder_items
from tests.interop.syncevo import free_port
from tests.interop.vcards import make_vcards
from tests.notify.modem_sim import ModemSim
from tests.obex_links.conftest import PtyPair

SERVER_ID = "omads-gateway"


def good_san(password: str = "sanpw") -> bytes:
    return encode_san(SAN(server_id=SERVER_ID, session_id=7,
                          syncs=(SANSync(sync_type=206, content_type=0x07,
                                         server_uri="contacts"),)), password=password)


def free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_args(gateway, store) -> tuple[str, ...]:
    return ("--url", gateway.url, "--user", "alice", "--password", "secret",
            "--device-id", "omads-listener", "--store", str(store),
            "--server-id", SERVER_ID, "--server-password", "sanpw")


def seed(gateway, n=3) -> None:
    for card in make_vcards(n, seed=31).values():
        gateway.add(card)


def test_wdp_san_starts_the_sync_and_a_bad_one_is_ignored(gateway, tmp_path):
    seed(gateway)
    port = free_udp()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--udp", f"127.0.0.1:{port}")
    try:
        proc.wait_for("WDP/UDP on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(san_push(good_san(password="wrong")), ("127.0.0.1", port))
            s.sendto(b"\x01\x06garbage", ("127.0.0.1", port))
            proc.wait_for("bad digest")
            s.sendto(san_push(good_san()), ("127.0.0.1", port))
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert "ignored a datagram" in proc.stderr
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())
    assert len(gateway.items()) == 3


def test_sip_message_san(gateway, tmp_path):
    seed(gateway)
    port = free_udp()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--sip", f"127.0.0.1:{port}")
    try:
        proc.wait_for("SIP/UDP on")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.bind(("127.0.0.1", 0))
            req = sip.build_request(method="MESSAGE", request_uri="sip:client@127.0.0.1",
                                    to_uri="sip:client@127.0.0.1",
                                    from_uri="sip:gw@127.0.0.1", from_tag="t1",
                                    call_id="c1@127.0.0.1", cseq=1, branch="z9hG4bK-1",
                                    via_host="127.0.0.1", via_port=s.getsockname()[1],
                                    body=good_san())
            s.sendto(bytes(req), ("127.0.0.1", port))
            answer = sip.parse_message(s.recv(4096))
            assert isinstance(answer, sip.SipResponse) and answer.status == 200
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())


def _modem_bridge(path: str, sim: ModemSim, deliveries: list[bytes], stop: threading.Event):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        sent = False
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                out = sim.feed(os.read(fd, 4096))
                if out:
                    os.write(fd, out)
                if not sent and sim.cmgf == 0 and not sim.echo:   # after the modem setup
                    for note in deliveries:
                        os.write(fd, note)
                    sent = True
    finally:
        os.close(fd)


def listen_on_a_modem(gateway, tmp_path, push: bytes, *, ref: int) -> ListenProc:
    """``omads-sync listen --modem`` on a pty whose simulated modem has ``push`` waiting
    as SMS; the listener must sync and exit 0."""
    assert shutil.which("socat"), "socat (Debian package socat) is required"
    pair = PtyPair(tmp_path)
    sim = ModemSim()
    pdus = sms.wap_push_pdus(push, "+4917012345", ref=ref)
    assert len(pdus) >= 1
    notes = [sim.deliver(sms_deliver_hex(pdu_hex), i + 1)
             for i, (pdu_hex, _length) in enumerate(pdus)]
    stop = threading.Event()
    bridge = threading.Thread(target=_modem_bridge, args=(pair.theirs, sim, notes, stop),
                              daemon=True)
    bridge.start()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--modem", pair.ours)
    try:
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
        stop.set()
        bridge.join(5)
        pair.close()
    return proc


def test_sms_san_from_a_gsm_modem(gateway, tmp_path):
    seed(gateway)
    listen_on_a_modem(gateway, tmp_path, san_push(good_san()), ref=5)
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())


def sms_deliver_hex(submit_hex: str) -> str:
    """The SMS-DELIVER a handset would receive for one of our SMS-SUBMIT PDUs."""
    sub = sms.decode_submit(bytes.fromhex(submit_hex))
    first = 0x04 | (0x40 if sub.udh is not None else 0)
    ud = (sub.udh.encode() if sub.udh is not None else b"") + sub.user_data
    tpdu = (bytes([first]) + sms.encode_address("+4917099999") + bytes([0, sub.dcs])
            + sms.encode_scts(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
            + bytes([len(ud)]) + ud)
    return ("00" + tpdu.hex()).upper()


@pytest.mark.parametrize("form", ["1.2", "1.1"])
def test_gateway_dials_the_client_over_obex(gateway, tmp_path, form):
    """The gateway PUTs the SAN in the handset's configured form, then runs the session."""
    seed(gateway)
    port = free_port()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--obex-listen", f"tcp:{port}:interface=127.0.0.1")
    conf = tmp_path / "admin.toml"
    try:
        proc.wait_for("OBEX server on")
        conf.write_text(admin_config(gateway, form), "utf-8")
        done = subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config", str(conf),
                               "device", "sync", "omads-listener", "--via",
                               f"obex:tcp:127.0.0.1:{port}"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr + proc.stderr
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert ("SyncML 1.1 form, with good credentials" in proc.stderr) == (form == "1.1")
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())


def admin_config(gateway, form: str = "auto") -> str:
    from tests.interop.gateway import interop_config
    return interop_config(free_port(), gateway.db) + (
        '\n[obex]\nlisten = []\n\n[[obex.handset]]\ndevice = "omads-listener"\n'
        f'via = "obex:tcp:127.0.0.1:1"\nsan_password = "sanpw"\nform = "{form}"\n')
