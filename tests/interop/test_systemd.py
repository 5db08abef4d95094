"""The systemd units: checked by ``systemd-analyze verify``, and the socket-activated
variant run under ``systemd-socket-activate`` (Debian package systemd), which passes the
listening socket the way systemd does (LISTEN_FDS): the gateway must serve on it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.interop.syncevo import free_port

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "systemd"
TWISTD = ROOT / ".venv" / "bin" / "twistd"
INSTALLED = "/opt/omads-gateway/bin/twistd"     # where the README installs it


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    names = ["omads-gateway.service", "omads-gateway.socket", "omads-gateway-activated.service"]
    for name in names:
        text = (UNITS / name).read_text("utf-8")
        if name.endswith(".service"):
            assert f"ExecStart={INSTALLED} " in text
        # verify checks that ExecStart's program exists: point it at this checkout's twistd
        (tmp_path / name).write_text(text.replace(INSTALLED, str(TWISTD)), "utf-8")
    done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           *(f"./{n}" for n in names)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(n in done.stdout + done.stderr for n in names), done.stderr
    socket_unit = (UNITS / "omads-gateway.socket").read_text("utf-8")
    assert "Service=omads-gateway-activated.service" in socket_unit
    activated = (UNITS / "omads-gateway-activated.service").read_text("utf-8")
    assert re.search(r"^ExecStart=.* --http systemd:domain=INET:index=0$", activated, re.M)


def test_socket_activation_serves_on_the_passed_socket(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "omads.sqlite"
    conf = tmp_path / "c.toml"
    conf.write_text(f'[store]\npath = "{db}"\n[[user]]\nname = "demo"\npassword = "demo"\n')
    log = tmp_path / "gateway.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "--fdname=http",
             str(TWISTD), "-n",
             "--pidfile=", "omads-gateway", "--config", str(conf), "--http",
             "systemd:domain=INET:index=0"], cwd=tmp_path, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # systemd-socket-activate listens at once and starts the gateway on the first
        # connection, handing it the socket (LISTEN_FDS, and LISTEN_FDNAMES as systemd
        # 227+ sets it: Twisted needs both).
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"no socket: {log.read_text('utf-8', 'replace')}")
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            page = r.read().decode("utf-8")
        assert r.status == 200 and "omads-gateway" in page and "/sync" in page
        text = log.read_text("utf-8", "replace")
        assert "systemd:domain=INET:index=0" in text and "Traceback" not in text
        assert db.exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
