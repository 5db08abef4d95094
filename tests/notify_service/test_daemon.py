"""The real daemon (``twistd omads-gateway`` with a temporary config): ``omads-admin device
notify`` queues in the database, the daemon delivers over UDP to a test socket; the HTTP
admin endpoint does the same."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.peers import start_gateway
from tests.notify_service.helpers import (NONCE, PASSWORD, check_push, check_san, free_port)

pytestmark = pytest.mark.timeout(120)


def test_daemon_delivers_admin_and_http_notifications_over_udp(tmp_path: Path):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(20)
    admin_port = free_port()

    def config(port: int, db: Path) -> str:
        return f"""
[http]
listen = ["tcp:{port}:interface=127.0.0.1"]
[store]
path = "{db}"
[server]
server_id = "omads-test"
[notify]
enabled = true
admin_listen = ["tcp:{admin_port}:interface=127.0.0.1"]
poll_interval = 0.2
[notify.udp]
bind = "127.0.0.1"
[[notify.device]]
id = "IMEI:1"
routes = ["udp:127.0.0.1:{sink.getsockname()[1]}"]
server_password = "{PASSWORD}"
nonce = "{NONCE.decode()}"
"""
    gw = start_gateway(free_port(), tmp_path / "omads.sqlite", tmp_path, config=config)
    conf = str(tmp_path / "omads-gateway.toml")

    def admin(*argv: str) -> str:
        done = subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config", conf,
                               "device", *argv], capture_output=True, text=True, timeout=30,
                              cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr
        return done.stdout
    try:
        assert admin("notify", "IMEI:1", "--datastore", "contacts").startswith(
            "queued notification 1")
        data, _ = sink.recvfrom(4096)
        check_san(check_push(data), datastores=("contacts",), session_id=1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{admin_port}/notify", method="POST",
            data=json.dumps({"device": "IMEI:1", "datastores": ["notes", "calendar"]}).encode())
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 202 and json.load(r)["id"] == 2
        data, _ = sink.recvfrom(4096)
        check_san(check_push(data), datastores=("calendar", "notes"), session_id=2)
        status = admin("notify-status")
        lines = [line.split("\t") for line in status.splitlines()]
        assert [(x[0], x[2]) for x in lines] == [("2", "sent"), ("1", "sent")]
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/notify/1", timeout=10) as r:
            doc = json.load(r)
        assert doc["state"] == "sent" and doc["origin"] == "admin"
    finally:
        gw.stop()
        sink.close()
    assert "Traceback" not in gw.log.read_text("utf-8", "replace")
