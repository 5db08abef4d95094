#!/usr/bin/env python3
"""A 5,000-contact slow sync over OBEX TCP vs the same over HTTP, against one real gateway
daemon (``twistd omads-gateway``) listening on both; prints wall time and the daemon's CPU.

usage: bench/obex.py [N]        (default 5000)

Client: the byte-level simulated client of tests/ds/simclient.py (XML, md5, the whole
address book in messages of 200 contacts); its transport is a blocking HTTP POST
(urllib) or a blocking OBEX PUT/GET loop built on the project's own OBEX client core
over a TCP socket. Each run uses a fresh device id, so both are first (slow) syncs.
"""
from __future__ import annotations

import socket
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import cpu_seconds  # noqa: E402
from gateway.ds.server.handler import Response
from gateway.obex import ClientConfig, ObexClient  # noqa: E402
from gateway.obex.events import (ConnectRequest, Connected, Disconnect, GetRequest,  # noqa: E402
                                 PutRequest, Response as ObexResponse)
from gateway.obex.constants import TARGET_SYNCML_SYNC  # noqa: E402
from gateway.syncml import codec  # noqa: E402
from gateway.syncml.model import Status  # noqa: E402
from tests.ds.simclient import SimClient, vcard  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ended(body: bytes, ctype: str) -> bool:
    msg = codec.decode_message(body, ctype)
    return msg.final and all(isinstance(c, Status) for c in msg.commands)


class HTTPLink:
    """SimClient's ``server``: POST to /sync, then to the RespURI the gateway hands out."""

    def __init__(self, url: str):
        self.url = self.start = url

    def handle(self, request) -> Response:
        req = urllib.request.Request(self.url, data=request.body,
                                     headers={"Content-Type": request.content_type})
        with urllib.request.urlopen(req, timeout=300) as r:
            body = r.read()
            ctype = r.headers["Content-Type"]
        msg = codec.decode_message(body, ctype)
        if msg.header.resp_uri:
            self.url = msg.header.resp_uri
        ended = _ended(body, ctype)
        if ended:
            self.url = self.start
        return Response(body=body, content_type=ctype, session=None if ended else "http")


class ObexLink:
    """SimClient's ``server``: one OBEX connection per session, PUT then GET per message."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.core: ObexClient | None = None

    def _wait(self, data: bytes):
        self.sock.sendall(data)
        while True:
            event = self.core.next_event()
            if event is not None:
                return event
            chunk = self.sock.recv(65536)
            self.core.receive_data(chunk, time.monotonic())
            out = self.core.data_to_send()
            if out:
                self.sock.sendall(out)

    def handle(self, request) -> Response:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=300)
            self.core = ObexClient(ClientConfig(max_packet_length=0xFFFF), now=time.monotonic())
            assert isinstance(self._wait(self.core.send(ConnectRequest(
                target=TARGET_SYNCML_SYNC), time.monotonic())), Connected)
        put = self._wait(self.core.send(PutRequest(type=request.content_type, body=request.body),
                                        time.monotonic()))
        assert isinstance(put, ObexResponse) and put.ok, put
        got = self._wait(self.core.send(GetRequest(type=request.content_type), time.monotonic()))
        assert got.ok, got
        ended = _ended(got.body, request.content_type)
        if ended:
            self._wait(self.core.send(Disconnect(), time.monotonic()))
            self.sock.close()
            self.sock = None
        return Response(body=got.body, content_type=request.content_type,
                        session=None if ended else "obex")


def run(link, n: int, device: str, pids) -> tuple[float, float]:
    client = SimClient(server=link, device_id=device, items_per_message=200,
                       send_devinf=True, now=time.time())
    client.items = {f"l{i}": vcard(i) for i in range(n)}
    items = dict(client.items)
    client.items = {}
    client.sync(200)                        # md5 challenge round, gets the nonce
    client.items = items
    cpu0, t0 = cpu_seconds(pids()), time.perf_counter()
    mode, statuses = client.sync(201)
    wall, cpu = time.perf_counter() - t0, cpu_seconds(pids()) - cpu0
    added = sum(1 for s in statuses if s.cmd == "Add" and s.data == 201)
    if mode != 201 or added != n:
        raise SystemExit(f"slow sync failed: mode {mode}, {added} of {n} added")
    return wall, cpu


def main() -> None:
    import subprocess
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        http, obex = free_port(), free_port()
        conf = work / "gw.toml"
        conf.write_text(f"""log_level = "warn"
[http]
listen = ["tcp:{http}:interface=127.0.0.1"]
[store]
path = "{work / 'gw.db'}"
[[user]]
name = "alice"
password = "secret"
[obex]
listen = ["tcp:{obex}:interface=127.0.0.1"]
""", "utf-8")
        twistd = Path(sys.executable).with_name("twistd")
        with open(work / "log", "wb") as out:
            proc = subprocess.Popen([str(twistd), "-n", "--pidfile=", "omads-gateway",
                                     "--config", str(conf)], cwd=work, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while socket.socket().connect_ex(("127.0.0.1", obex)) != 0:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("gateway did not start: " + (work / "log").read_text())
                time.sleep(0.1)
            pids = lambda: [proc.pid]  # noqa: E731
            print(f"slow sync of {n} contacts, simulated client (XML, md5, 200 per message)")
            for name, link in (("HTTP", HTTPLink(f"http://127.0.0.1:{http}/sync")),
                               ("OBEX/TCP", ObexLink(obex))):
                wall, cpu = run(link, n, f"bench-{name}", pids)
                print(f"  {name:9s} wall {wall:7.2f} s   gateway CPU {cpu:7.2f} s")
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
