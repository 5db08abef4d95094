"""The ``omads-sync`` command: profiles, one-off options, output, exit codes, HTTPS."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.client import profiles
from gateway.ds.client.errors import ConfigError
from gateway.ds.server.handler import Request, SyncServer
from gateway.ds.settings import ServerSettings
from gateway.store.accounts import make_secret
from gateway.store.base import Account
from gateway.store.sqlite.store import SQLiteStore
from tests.client.runcli import check, contacts, folder_items, omads_sync, summary_row
from tests.interop.syncevo import free_port
from tests.interop.vcards import make_vcards


def test_profile_file_is_parsed_and_checked(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("""
[profile.work]
url = "https://sync.example.org/sync"
user = "alice"
password_env = "OMADS_TEST_PW"
auth = "basic"
encoding = "xml"
[[profile.work.datastore]]
remote = "contacts"
store = "~/Contacts"
mode = "one-way-from-server"
[[profile.work.datastore]]
remote = "cal"
type = "text/calendar"
store = "sqlite:/tmp/cal.db"
""")
    p = profiles.load(path, "work")
    s = p.settings
    assert s.auth_type == "syncml:auth-basic" and s.encoding.endswith("+xml")
    assert [(d.local_uri, d.remote_uri, d.mode) for d in s.datastores] == \
        [("./contacts", "contacts", 204), ("./calendar", "cal", 200)]
    assert p.stores["./calendar"].kind == "sqlite"
    assert profiles.load(path, "work", mode="slow").settings.datastores[0].mode == 201
    with pytest.raises(ConfigError, match="no profile 'home'"):
        profiles.load(path, "home")
    path.write_text('[profile.x]\nurl = "http://a"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match="unknown keys colour"):
        profiles.load(path, "x")


def test_profile_sync_output_and_exit_codes(gateway, tmp_path):
    for card in make_vcards(4, seed=41).values():
        gateway.add(card)
    store = tmp_path / "items"
    conf = tmp_path / "profiles.toml"
    conf.write_text(f"""
[profile.gw]
url = "{gateway.url}"
user = "alice"
password = "secret"
device_id = "omads-cli"
[[profile.gw.datastore]]
remote = "contacts"
store = "{store}"
""")
    done = check(omads_sync("--config", str(conf), "--profile", "gw", "--progress", "-v"))
    row = summary_row(done.stdout)
    assert row["local +"] == "4" and row["status"] == "ok"
    assert "bytes:" in done.stdout.splitlines()[-1]
    assert "sent      0  received      4" in done.stderr      # the progress line
    assert ">>> to server" in done.stderr and "<SyncHdr>" in done.stderr   # --verbose
    assert contacts(folder_items(store)) == contacts(gateway.items())

    devinf = check(omads_sync("devinf", "--url", gateway.url, "--user", "alice",
                              "--password", "secret", "--store", str(tmp_path / "d")))
    assert "server: omads-gateway" in devinf.stdout and "datastore contacts" in devinf.stdout

    assert omads_sync("--config", str(conf), "--profile", "nope").returncode == 2
    assert omads_sync("--url", gateway.url).returncode == 2          # no --store
    refused = omads_sync("--url", f"http://127.0.0.1:{free_port()}/sync",
                         "--store", str(tmp_path / "x"), "--timeout", "10")
    assert refused.returncode == 3 and "transport" in refused.stderr
    bad = omads_sync("--url", gateway.url, "--user", "alice", "--password", "wrong",
                     "--device-id", "omads-cli-bad", "--store", str(tmp_path / "y"))
    assert bad.returncode == 4 and "authentication" in bad.stderr


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "omads test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_pem = tmp_path / "cert.pem"
    key_pem = tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return cert_pem, key_pem


def test_https_checks_certificate_and_host(tmp_path):
    store = SQLiteStore(tmp_path / "gw.db")
    with store.transaction() as tx:
        tx.put_account(Account(username="alice", secret=make_secret("alice", "secret")))
    engine = SyncServer(ServerSettings(), store)
    port = free_port()
    base = f"https://localhost:{port}/sync"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            session = self.path.partition("?s=")[2] or None
            resp = engine.handle(Request(body=body, content_type=self.headers["Content-Type"],
                                         session=session, base_url=base, now=time.time()))
            self.send_response(200)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body)

        def log_message(self, *a):
            pass

    cert, key = _certificate(tmp_path)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        items = tmp_path / "items"
        items.mkdir()
        (items / "a.vcf").write_bytes(make_vcards(1, seed=42)["c42-000001.vcf"])
        args = ("--user", "alice", "--password", "secret", "--store", str(items),
                "--timeout", "20")
        ok = check(omads_sync("--url", base, "--ca-file", str(cert), *args))
        assert summary_row(ok.stdout)["remote +"] == "1"
        untrusted = omads_sync("--url", base, *args)               # system roots only
        assert untrusted.returncode == 3, untrusted.stderr
        wrong_host = omads_sync("--url", f"https://127.0.0.1:{port}/sync",
                                "--ca-file", str(cert), *args)
        assert wrong_host.returncode == 3, wrong_host.stderr
    finally:
        httpd.shutdown()
        store.close()
