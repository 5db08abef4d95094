"""[obex] settings, the service tree with OBEX listeners, and the real daemon serving a
PyOBEX session."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.testing import MemoryReactorClock

from gateway.config import ConfigError, parse_settings
from gateway.service import build_service
from gateway.config.obex import ObexSettings


def test_defaults_have_no_listener() -> None:
    own = parse_settings({}).obex
    assert own == ObexSettings() and own.listen == ()


def test_parse_all_keys() -> None:
    own = parse_settings({"obex": {
        "listen": ["tcp:6500:interface=127.0.0.1", "serial:/dev/ttyUSB0",
                   "bluetooth:channel=7"],
        "max_packet_length": 4096, "idle_timeout": 30, "allow_no_target": True,
        "handset": [{"device": "IMEI:1", "via": "obex:bt:00:11:22:33:44:55:7",
                     "encoding": "xml", "san_password": "pw", "form": "1.1"}]}}).obex
    assert own.listen[2] == "bluetooth:channel=7" and own.max_packet_length == 4096
    assert own.idle_timeout == 30.0 and own.allow_no_target
    assert own.handset("IMEI:1").via.endswith(":7") and own.handset("nope") is None
    assert own.handset("IMEI:1").form == "1.1"
    assert own.server_config(1000).max_object_size == 1000


def test_every_problem_is_reported() -> None:
    with pytest.raises(ConfigError) as e:
        parse_settings({"obex": {"listen": ["udp:1"], "max_packet_length": 100,
                                 "idle_timeout": -1, "allow_no_target": "yes", "bogus": 1,
                                 "handset": [{"via": "obex:tcp:x", "form": "2.0"}]}})
    text = str(e.value)
    for what in ("udp", "max_packet_length", "idle_timeout", "allow_no_target", "bogus",
                 "device is required", "obex:tcp needs HOST:PORT", "form must be one of auto, 1.2, 1.1"):
        assert what in text, what


def test_service_tree_has_named_obex_listeners(store: Any) -> None:
    settings = parse_settings({"obex": {"listen": ["tcp:0:interface=127.0.0.1",
                                                   "serial:/dev/nonexistent-tty",
                                                   "bluetooth:channel=3"]}})
    tree = build_service(settings, reactor=MemoryReactorClock(), store=store)
    names = [svc.name for svc in tree]
    assert {"obex-0", "obex-1", "obex-2"} <= set(names)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.interop
@pytest.mark.timeout(120)
def test_real_daemon_serves_pyobex(tmp_path: Path) -> None:
    """twistd with [obex] listeners (TCP + a Bluetooth one that cannot start here) serves
    a whole captured session to PyOBEX; the Bluetooth line is logged once."""
    http, obex = _free_port(), _free_port()
    db = tmp_path / "gw.db"
    conf = tmp_path / "gw.toml"
    conf.write_text(f"""
[http]
listen = ["tcp:{http}:interface=127.0.0.1"]
[store]
path = "{db}"
[[user]]
name = "alice"
password = "secret"
[obex]
listen = ["tcp:{obex}:interface=127.0.0.1", "bluetooth:channel=9"]
idle_timeout = 20
""", "utf-8")
    twistd = Path(sys.executable).with_name("twistd")
    log = tmp_path / "twistd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(twistd), "-n", "--pidfile=", "omads-gateway", "--config",
                                 str(conf)], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", obex)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        from gateway.store.sqlite.store import SQLiteStore
        store = SQLiteStore(db)
        try:
            from tests.obex_links.test_interop_pyobex import replay
            counts = replay(obex, store, "wbxml", ["md5-slow"])
            with store.transaction() as tx:
                assert len(list(tx.list_items("alice", "contacts"))) == 3
        finally:
            store.close()
        assert counts[0] >= 2
    finally:
        proc.terminate()
        proc.wait(20)
    text = log.read_text("utf-8", "replace")
    assert text.count("bluetooth listener bluetooth:channel=9 unavailable") == 1, text
    assert proc.returncode == 0 or proc.returncode == -15
