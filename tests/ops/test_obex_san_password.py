"""`device sync` over OBEX signs its SAN with the password set by `notify-setup` (no
[[obex.handset]] san_password): omads-sync --obex-listen, which has that password,
accepts it and syncs; without it the all-zero digest would be refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.client.listenproc import ListenProc
from tests.client.runcli import ROOT, contacts, folder_items
from tests.client.test_listen import client_args, seed
from tests.interop.gateway import Gateway, interop_config
from tests.interop.syncevo import free_port


@pytest.fixture
def gateway(tmp_path):
    gw = Gateway(tmp_path / "gateway")
    yield gw
    gw.stop()


def admin(conf, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.admin.cli", "--config", str(conf),
                           "device", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_device_sync_uses_the_notify_setup_password(gateway, tmp_path):
    seed(gateway)
    conf = tmp_path / "admin.toml"
    conf.write_text(interop_config(free_port(), gateway.db) + "\n[obex]\nlisten = []\n")
    done = admin(conf, "notify-setup", "omads-listener", "--server-password", "sanpw")
    assert done.returncode == 0 and "with password" in done.stdout, done.stderr
    port = free_port()
    proc = ListenProc(tmp_path, *client_args(gateway, tmp_path / "items"),
                      "--obex-listen", f"tcp:{port}:interface=127.0.0.1")
    try:
        proc.wait_for("OBEX server on")
        done = admin(conf, "sync", "omads-listener", "--via", f"obex:tcp:127.0.0.1:{port}")
        assert done.returncode == 0, done.stdout + done.stderr + proc.stderr
        assert proc.finish() == 0, proc.stderr
    finally:
        proc.stop()
    assert "bad digest" not in proc.stderr and "no digest" not in proc.stderr
    assert contacts(folder_items(tmp_path / "items")) == contacts(gateway.items())
    shown = admin(conf, "show", "omads-listener")
    assert shown.returncode == 0 and "transport" not in shown.stderr
    assert "obex" in shown.stdout and "digest with a server password" in shown.stdout
