"""openobex/obexftp tools against the gateway: obexftp (client) against the OBEX server over
TCP and over a serial pty pair; the gateway's OBEX client against ``obex_test``'s server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.endpoints import TCP6ClientEndpoint, connectProtocol
from twisted.internet.threads import deferToThread
from twisted.logger import capturedLogs

from gateway.obex import ResponseCode
from gateway.transport.obex.dial import ObexClientProtocol
from tests.obex_links.conftest import server_config

pytestmark = pytest.mark.interop


def obexftp(args: list[str], cwd: Path, timeout: float = 30) -> str:
    assert shutil.which("obexftp"), "obexftp (Debian package obexftp) is required"
    # obexftp exits 255 even on success (notify-obex.md §3.1): check effects, not rc
    res = subprocess.run(["obexftp", *args], cwd=cwd, capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    text = res.stdout + res.stderr
    for spin in ("\b", "|", "/", "-", "\\"):
        text = text.replace(spin, "")
    return text


def _rejections(events: list[dict]) -> list[tuple[int, int, str]]:
    return [(e["op"], e["code"], e["reason"]) for e in events if "op" in e and "code" in e]


@pytest.mark.timeout(90)
@pytest_twisted.inlineCallbacks
def test_obexftp_over_tcp(obex_tcp: Any, tmp_path: Path) -> Any:
    """obexftp's target-less Connect is accepted when configured; its PUT (Name, Length and
    Body, then an empty End-of-Body) is assembled and refused as not SyncML (0xCF); a GET
    with nothing pending gets 0xD0; its Disconnect ends the session cleanly."""
    port, factory = obex_tcp(server_config(allow_no_target=True))
    (tmp_path / "up.txt").write_bytes(b"x" * 3000)
    with capturedLogs() as events:
        put = yield deferToThread(obexftp, ["-n", f"127.0.0.1:{port}", "-U", "none",
                                            "-p", "up.txt"], tmp_path)
        get = yield deferToThread(obexftp, ["-n", f"127.0.0.1:{port}", "-U", "none",
                                            "-g", "hello.txt"], tmp_path)
    assert "Connecting...done" in put and "failed: up.txt" in put, put
    rejected = _rejections(events)
    assert (0x02, ResponseCode.UNSUPPORTED_MEDIA_TYPE, "PUT of type None") in rejected
    assert (0x03, ResponseCode.INTERNAL_SERVER_ERROR, "GET with no SyncML reply pending") \
        in rejected
    assert "failed: hello.txt" in get and "Disconnecting...done" in get, get
    assert not (tmp_path / "hello.txt").exists()


@pytest.mark.timeout(90)
@pytest_twisted.inlineCallbacks
def test_obexftp_connect_without_target_refused_by_default(obex_tcp: Any,
                                                           tmp_path: Path) -> Any:
    port, _ = obex_tcp()
    with capturedLogs() as events:
        res = yield deferToThread(obexftp, ["-n", f"127.0.0.1:{port}", "-U", "none",
                                            "-p", "nothing.txt"], tmp_path)
    assert (0x00, ResponseCode.NOT_FOUND, "Connect without Target") in _rejections(events)
    assert "Connecting...failed" in res, res


@pytest.mark.timeout(120)
@pytest_twisted.inlineCallbacks
def test_obexftp_over_serial_pty(engine: Any, run: Any, pty_pair: Any,
                                 tmp_path: Path) -> Any:
    """obexftp -t TTY sends its ABORT+ATZ probe; the listener answers it, obexftp goes
    transparent and runs Connect/PUT/Disconnect on the serial line."""
    from twisted.internet import reactor

    from gateway.transport.obex.links import ListenSpec, SerialListenerService
    from gateway.transport.obex.protocol import ObexSyncProtocol
    spec = ListenSpec(kind="serial", text="serial", device=pty_pair.ours)
    svc = SerialListenerService(spec, reactor=reactor, make_protocol=lambda: ObexSyncProtocol(
        engine=engine, run=run, reactor=reactor, config=server_config(allow_no_target=True),
        base_url="obex://serial", link="serial-test", at_preamble=True, reusable=True))
    svc.startService()
    (tmp_path / "up1.txt").write_bytes(b"serial payload\n")
    try:
        with capturedLogs() as events:
            res = yield deferToThread(obexftp, ["-t", pty_pair.theirs, "-U", "none",
                                                "-p", "up1.txt"], tmp_path, 60)
            again = yield deferToThread(obexftp, ["-t", pty_pair.theirs, "-U", "none",
                                                  "-p", "up1.txt"], tmp_path, 60)
    finally:
        svc.stopService()
    rejected = _rejections(events)
    assert rejected.count((0x02, ResponseCode.UNSUPPORTED_MEDIA_TYPE, "PUT of type None")) == 2
    for r in (res, again):
        assert "Connecting...done" in r and "failed: up1.txt" in r, r


def _start_obex_test(cwd: Path) -> subprocess.Popen:
    """``obex_test -i`` in server mode (fixed [::]:650, no SO_REUSEADDR: retry the bind)."""
    assert shutil.which("obex_test"), "obex_test (Debian package openobex-apps) is required"
    deadline = time.monotonic() + 90
    while True:
        proc = subprocess.Popen(["obex_test", "-i"], cwd=cwd, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        proc.stdin.write(b"s\n")
        proc.stdin.flush()
        for _ in range(40):
            with socket.socket(socket.AF_INET6) as s:
                if s.connect_ex(("::1", 650)) == 0:
                    # this probe is a connection obex_test serves and ends; it then
                    # goes back to its prompt: ask it to serve again
                    break
            time.sleep(0.05)
        else:
            _stop(proc)
            if time.monotonic() > deadline:
                raise RuntimeError("obex_test did not listen on [::]:650")
            time.sleep(2)
            continue
        time.sleep(0.2)
        proc.stdin.write(b"s\n")
        proc.stdin.flush()
        time.sleep(0.3)
        return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


@pytest.mark.timeout(150)
@pytest_twisted.inlineCallbacks
def test_gateway_client_put_get_against_obex_test(tmp_path: Path) -> Any:
    from twisted.internet import reactor
    (tmp_path / "served.txt").write_bytes(b"hello from obex_test\n" * 200)
    proc = yield deferToThread(_start_obex_test, tmp_path)
    try:
        client = ObexClientProtocol(reactor=reactor)
        yield connectProtocol(TCP6ClientEndpoint(reactor, "::1", 650, timeout=10),
                              client).addTimeout(15, reactor)
        connected = yield client.connect(None).addTimeout(15, reactor)
        assert connected.max_packet_length >= 255
        body = bytes(range(256)) * 20
        put = yield client.put("text/plain", body, name="up.bin").addTimeout(15, reactor)
        assert put.ok
        got = yield client.get(None, name="served.txt").addTimeout(15, reactor)
        assert got.ok and got.body == b"hello from obex_test\n" * 200
        missing = yield client.get(None, name="absent.txt").addTimeout(15, reactor)
        assert not missing.ok
        done = yield client.disconnect().addTimeout(15, reactor)
        assert done.ok
    finally:
        yield deferToThread(_stop, proc)
    assert (tmp_path / "up.bin").read_bytes() == body
