"""The shared credential math against values worked out here with hashlib/base64."""

from __future__ import annotations

import base64
import hashlib

from gateway.syncml.creds import b64_md5, cred_text, md5_digest, md5_secret


def _ref(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


def test_secret_and_digest():
    secret = md5_secret("alice", "sécret")
    assert secret == _ref("alice:sécret".encode("utf-8")).decode()
    assert md5_digest(secret, b"\x00nonce") == _ref(secret.encode() + b":\x00nonce").decode()
    assert b64_md5(b"") == b"1B2M2Y8AsgTpgAmY7PhCfg=="


def test_cred_text_forms():
    raw = hashlib.md5(b"x").digest()
    assert cred_text(raw) == base64.b64encode(raw).decode()       # binary digest
    assert cred_text(b" YWxpY2U6c2VjcmV0 ") == "YWxpY2U6c2VjcmV0"
    assert cred_text(" abc\n") == "abc"
    assert cred_text(b"\xff\xfe not ascii") is None
