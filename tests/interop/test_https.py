"""HTTPS through an ``ssl:`` endpoint string: the real daemon with a certificate and key,
reached by Python's TLS client (certificate and host checked) and by SyncEvolution."""

from __future__ import annotations

import datetime
import http.client
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.peers import start_gateway
from gateway.syncml import codec
from tests.interop import gateway as gwmod
from tests.interop.syncevo import free_port
from tests.interop.vcards import make_vcards, normalize_vcard
from tests.syncml.captures import FIXTURES


def make_cert(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.fixture
def https_gateway(tmp_path):
    key, cert = make_cert(tmp_path)
    port = free_port()

    def config(p, db):
        text = gwmod.interop_config(p, db)
        return text.replace(f'listen = ["tcp:{p}:interface=127.0.0.1"]',
                            f'listen = ["ssl:{p}:interface=127.0.0.1:privateKey={key}'
                            f':certKey={cert}"]')

    proc = start_gateway(port, tmp_path / "gw.sqlite", tmp_path / "gw", config=config)
    yield port, cert, tmp_path / "gw.sqlite"
    proc.stop()


def test_https_answers_syncml_with_a_checked_certificate(https_gateway):
    port, cert, _ = https_gateway
    ctx = ssl.create_default_context(cafile=str(cert))
    body = (FIXTURES / "syncevolution/first-message/wbxml-md5-slow.wbxml").read_bytes()
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
    conn.request("POST", "/sync", body, {"Content-Type": codec.WBXML})
    resp = conn.getresponse()
    data = resp.read()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith(codec.WBXML)
    reply = codec.decode_message(data, codec.WBXML)
    assert reply.header.resp_uri.startswith(f"https://localhost:{port}/sync?s=")
    # Plain HTTP on the TLS port is not served.
    plain = http.client.HTTPConnection("localhost", port, timeout=10)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        plain.request("POST", "/sync", body, {"Content-Type": codec.WBXML})
        plain.getresponse().read()


@pytest.mark.interop
def test_syncevolution_over_https(https_gateway, syncevo_client_factory):
    port, cert, db = https_gateway
    client = syncevo_client_factory(
        url=f"https://localhost:{port}/sync", username=gwmod.USER, password=gwmod.PASSWORD,
        extra={"SSLServerCertificates": str(cert), "SSLVerifyServer": "1", "SSLVerifyHost": "1"})
    cards = make_vcards(5, seed=61)
    client.write_items(cards)
    client.sync("slow").check()
    from gateway.store.sqlite.store import SQLiteStore
    store = SQLiteStore(db)
    try:
        with store.transaction() as tx:
            stored = [it.data for it in tx.list_items(gwmod.USER, "contacts")]
    finally:
        store.close()
    assert sorted(map(normalize_vcard, stored)) == sorted(map(normalize_vcard, cards.values()))
