"""The gateway as OBEX client: --via parsing, a whole server-alerted session against a fake
handset in memory and over a serial pty (AT+CPROT=0), and ``omads-admin device sync``
(which dials the fake handset over TCP)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import maybeDeferred
from twisted.internet.task import Clock
from twisted.test import iosim

from gateway.notify.san import SAN, decode_san, encode_san
from gateway.obex.constants import TYPE_SYNCML_SAN
from gateway.transport.obex.dial import (DialError, ObexClientProtocol, alerted_session, dial,
                                         parse_via)
from tests.obex_links import helpers
from tests.obex_links.phone import Phone, PhoneFactory

XML = helpers.XML


def test_parse_via() -> None:
    t = parse_via("obex:tcp:127.0.0.1:6500")
    assert (t.kind, t.host, t.port) == ("tcp", "127.0.0.1", 6500)
    assert parse_via("obex:serial:/dev/ttyACM0").device == "/dev/ttyACM0"
    bt = parse_via("obex:bt:00:11:22:aa:bb:cc:7")
    assert (bt.mac, bt.channel) == ("00:11:22:AA:BB:CC", 7)
    assert parse_via("obex:bt:00:11:22:aa:bb:cc").channel is None
    for bad in ("tcp:1:2", "obex:tcp:host", "obex:serial:ttyS0", "obex:bt:00:11", "obex:bt:"
                "00:11:22:33:44:55:99", "obex:irda:x"):
        with pytest.raises(ValueError):
            parse_via(bad)


def captured(store: Any) -> list[bytes]:
    paths = helpers.client_messages("md5-slow", "xml")
    bodies = [p.read_bytes() for p in paths]
    helpers.prime_nonce(store, bodies[0], XML, helpers.captured_nonces("xml"))
    return bodies


def check_session(phone: Phone, bodies: list[bytes], store: Any) -> None:
    san = phone.puts[0]
    assert san.type == TYPE_SYNCML_SAN
    assert decode_san(san.body).server_id == "omads-gateway"
    replies = phone.puts[1:]
    assert len(replies) == len(bodies)
    for n, (put, body) in enumerate(zip(replies, bodies)):
        assert put.type == XML
        helpers.check_reply(put.body, body, XML, n)
    assert phone.closed
    with store.transaction() as tx:
        assert len(list(tx.list_items("alice", "contacts"))) == 3


def in_memory(phone: Phone) -> tuple[ObexClientProtocol, Any, Clock]:
    """Our OBEX client joined to the fake handset in memory (iosim), on a clock."""
    clock = Clock()
    client = ObexClientProtocol(reactor=clock)
    pump = iosim.connect(phone, iosim.makeFakeServer(phone), client,
                         iosim.makeFakeClient(client), clock=clock)
    return client, pump, clock


def pumped(pump: Any, d: Any) -> Any:
    """Move bytes both ways until ``d`` fires; its result (or its failure, raised)."""
    out: list = []
    d.addBoth(out.append)
    for _ in range(10000):
        if out:
            break
        pump.pump()
    assert out, "the session never ended"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


def run_here(fn: Any, *args: Any) -> Any:
    return maybeDeferred(fn, *args)


def test_alerted_session_against_a_fake_handset(engine: Any, store: Any) -> None:
    """The whole alerted session in memory (the TCP dial itself: the omads-admin test)."""
    bodies = captured(store)
    phone = Phone(bodies, XML)
    client, pump, clock = in_memory(phone)
    result = pumped(pump, alerted_session(
        client, engine=engine, run=run_here, reactor=clock, peer="phone", encoding=XML,
        san=encode_san(SAN(server_id="omads-gateway"), password=None)))
    assert result.messages == len(bodies) and result.session is None
    check_session(phone, bodies, store)


@pytest.mark.timeout(60)
@pytest_twisted.inlineCallbacks
def test_alerted_session_over_serial_switches_with_at_cprot(engine: Any, run: Any, store: Any,
                                                            pty_pair: Any) -> Any:
    from twisted.internet import reactor
    from twisted.internet.serialport import SerialPort
    bodies = captured(store)
    phone = Phone(bodies, XML, at_first=True)
    phone_port = SerialPort(phone, pty_pair.theirs, reactor, baudrate=115200)
    try:
        client = yield dial(reactor, parse_via(f"obex:serial:{pty_pair.ours}"), timeout=10)
        result = yield alerted_session(client, engine=engine, run=run,
                                       san=encode_san(SAN(server_id="omads-gateway"), password=None),
                                       reactor=reactor, peer="phone", encoding=XML
                                       ).addTimeout(30, reactor)
    finally:
        phone_port.loseConnection()
    assert b"AT+CPROT=0\r" in b"".join(phone.at_lines)
    assert result.messages == len(bodies)
    check_session(phone, bodies, store)


def test_handset_refusing_the_get_fails_the_dial(engine: Any) -> None:
    client, pump, clock = in_memory(Phone([], XML))
    with pytest.raises(DialError, match="0xD0"):
        pumped(pump, alerted_session(client, engine=engine, run=run_here, san=b"\0" * 30,
                                     reactor=clock, peer="phone"))


@pytest.mark.timeout(120)
@pytest_twisted.inlineCallbacks
def test_omads_admin_device_sync_via_obex_tcp(store: Any, tmp_path: Path) -> Any:
    """The real CLI in a subprocess dials the fake handset served by this test's reactor."""
    from twisted.internet import reactor
    from twisted.internet.utils import getProcessOutputAndValue
    bodies = captured(store)
    db = tmp_path / "gw.db"
    conf = tmp_path / "gw.toml"
    conf.write_text(f'[store]\npath = "{db}"\n', "utf-8")
    factory = PhoneFactory(bodies, XML)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    admin = Path(sys.executable).with_name("omads-admin")
    number = port.getHost().port
    try:
        out, err, code = yield getProcessOutputAndValue(
            str(admin), ["--config", str(conf), "device", "sync", "phone-1", "--via",
                         f"obex:tcp:127.0.0.1:{number}", "--encoding", "xml",
                         "--timeout", "20"], env={"PATH": "/usr/bin:/bin"}).addTimeout(90, reactor)
    finally:
        yield port.stopListening()
    assert code == 0, (out, err)
    assert f"synced phone-1 via obex:tcp:127.0.0.1:{number}: " \
           f"{len(bodies)} messages".encode() in out
    check_session(factory.phones[0], bodies, store)


@pytest.mark.timeout(60)
def test_omads_admin_device_sync_needs_a_link(tmp_path: Path) -> None:
    admin = Path(sys.executable).with_name("omads-admin")
    conf = tmp_path / "gw.toml"
    conf.write_text(f'[store]\npath = "{tmp_path / "gw.db"}"\n', "utf-8")
    (tmp_path / "gw.db").touch()
    res = subprocess.run([str(admin), "--config", str(conf), "device", "sync", "x"],
                         capture_output=True, text=True, timeout=50)
    assert res.returncode == 2 and "no --via" in res.stderr
