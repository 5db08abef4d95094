"""The credential math of SyncML authentication (omads-protocol.md §3.5, §4.1), shared by
the server, the client and the notifications: B64(MD5(...)) in its three uses."""

from __future__ import annotations

import base64
import hashlib


def b64_md5(data: bytes) -> bytes:
    """B64(MD5(data))."""
    return base64.b64encode(hashlib.md5(data).digest())


def md5_secret(username: str, password: str) -> str:
    """B64(MD5("username:password")), both strings as UTF-8: what auth-md5 and auth-MAC
    build on (and what an account stores instead of the password)."""
    return b64_md5(f"{username}:{password}".encode("utf-8")).decode("ascii")


def md5_digest(secret: str, nonce: bytes) -> str:
    """The auth-md5 Cred data: B64(MD5(secret + ":" + nonce)), ``secret`` from md5_secret."""
    return b64_md5(secret.encode("utf-8") + b":" + bytes(nonce)).decode("ascii")


def cred_text(data: str | bytes) -> str | None:
    """A Cred's Data as text: a 16-byte binary MD5 digest (WBXML opaque, as some phones
    send it) becomes its base64; other bytes must be ASCII; None when they are not."""
    if isinstance(data, bytes):
        if len(data) == 16:
            return base64.b64encode(data).decode("ascii")
        try:
            return data.decode("ascii").strip()
        except UnicodeDecodeError:
            return None
    return data.strip()
