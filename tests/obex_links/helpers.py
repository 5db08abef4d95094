"""Blocking clients used from threads: PyOBEX, a socat TCP->pty bridge, capture replay."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from gateway.syncml import codec
from gateway.syncml.model import Status

if not hasattr(socket, "AF_BLUETOOTH"):
    # PyOBEX.common imports PyBluez when the socket module lacks AF_BLUETOOTH; its
    # Bluetooth socket is never created here (we hand it a TCP socket).
    sys.modules.setdefault("bluetooth", types.SimpleNamespace(BluetoothSocket=object))

from tests.ds import replay  # noqa: E402
from PyOBEX import client as pyobex_client, headers as pyobex_headers, responses  # noqa: E402

XML = "application/vnd.syncml+xml"
WBXML = "application/vnd.syncml+wbxml"


class PyObexSession:
    """A PyOBEX SyncMLClient on a TCP socket (Target SYNCML-SYNC)."""

    def __init__(self, port: int, timeout: float = 20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        # PyOBEX reads with MSG_WAITALL, which returns short reads on a socket with a
        # timeout (non-blocking underneath); the gateway's idle timeout bounds the wait.
        self.sock.settimeout(None)
        self.client = pyobex_client.SyncMLClient("127.0.0.1", port)
        self.client.set_socket(self.sock)
        self.connect_response = self.client.connect()
        assert isinstance(self.connect_response, responses.ConnectSuccess), \
            self.connect_response

    def exchange(self, body: bytes, ctype: str) -> Any:
        """PUT then GET; returns the GET body, or the PyOBEX response object on failure."""
        r = self.client.put("", body, header_list=[pyobex_headers.Type(ctype.encode())])
        if not isinstance(r, responses.Success):
            return r
        got = self.client.get(None, header_list=[pyobex_headers.Type(ctype.encode())])
        if isinstance(got, tuple):
            return got[1]
        return got

    def close(self) -> Any:
        try:
            return self.client.disconnect()
        finally:
            self.sock.close()


def _listening(port: int) -> bool:
    with open("/proc/net/tcp") as f:
        return any(line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"
                   for line in list(f)[1:])


def serial_bridge(tty: str) -> tuple[subprocess.Popen, int]:
    """socat TCP-LISTEN on a free 127.0.0.1 port -> the client end of the pty pair
    (one connection), as in notify-obex.md §3.3 for PyOBEX over serial."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
                             f"FILE:{tty},rawer"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while not _listening(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            stop(proc)
            raise RuntimeError("socat bridge did not start")
        time.sleep(0.05)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- SyncEvolution capture replay (as tests/ds/test_captures.py) ------------------------------

def client_messages(session: str, enc: str) -> list[Path]:
    return replay.client_messages(replay.SESSIONS / f"{enc}-{session}")


def prime_nonce(store: Any, body: bytes, ctype: str, nonces: list[bytes]) -> None:
    """Give the device the nonce the captured client computed its md5 Cred with."""
    replay.prime_nonce(store, codec.decode_message(body, ctype), nonces)


captured_nonces = replay.captured_nonces


def check_reply(body: bytes, request: bytes, ctype: str, n: int) -> Any:
    """The engine's answer to captured client message ``n``: SyncHdr status and the
    status of every change command."""
    msg = codec.decode_message(request, ctype)
    reply = codec.decode_message(body, ctype)
    statuses = [c for c in reply.commands if isinstance(c, Status)]
    assert statuses[0].cmd == "SyncHdr" and statuses[0].msg_ref == msg.header.msg_id
    assert statuses[0].data == (212 if n == 0 else 200), (n, statuses[0].data)
    for s in statuses:
        if s.cmd in ("Add", "Replace", "Delete", "Sync", "Map", "Put"):
            assert 200 <= s.data < 300, (n, s)
    return reply
