"""Our credentials for the server (omads-protocol.md §3.5, §4.1), with the server's math.

basic: B64("user:password"); md5: B64(MD5(B64(MD5("user:password")) + ":" + nonce)), the
nonce being the base64-decoded NextNonce the server gave us last (empty before the first
challenge). auth-MAC sends no Cred: each HTTP POST carries an ``x-syncml-hmac`` header
signing the exact body with the same nonce (ds/hmac.py). The digests and the secret are
the server's own functions (ds/auth.py, ds/hmac.py, store/accounts.py). The nonce is kept
per server URL in the client state.
"""

from __future__ import annotations

import base64
import binascii

from gateway.ds.auth import BASIC, MD5, canonical_type, md5_digest
from gateway.ds.hmac import HEADER, MAC, compute_mac, format_header
from gateway.store.accounts import make_secret
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Chal, Cred


def _nonce(nonce_b64: str | None) -> bytes:
    try:
        return base64.b64decode(nonce_b64 or "", validate=False)
    except (binascii.Error, ValueError):
        return b""


def credentials(auth_type: str, username: str, password: str,
                nonce_b64: str | None) -> Cred | None:
    """The Cred of our SyncHdr; None for no auth and for auth-MAC (header instead)."""
    if auth_type == BASIC:
        data = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
        return Cred(meta=Meta(type=BASIC, format="b64"), data=data)
    if auth_type == MD5:
        return Cred(meta=Meta(type=MD5, format="b64"),
                    data=md5_digest(make_secret(username, password), _nonce(nonce_b64)))
    return None


def transport_headers(auth_type: str, username: str, password: str, nonce_b64: str | None,
                      body: bytes) -> dict[str, str]:
    """Extra transport headers for one message: the auth-MAC header, or none."""
    if auth_type != MAC:
        return {}
    mac = compute_mac(make_secret(username, password), _nonce(nonce_b64), body)
    return {HEADER: format_header(username, mac)}


def challenge(chal: Chal | None) -> tuple[str | None, str | None]:
    """(auth type as we spell it, b64 NextNonce) of a Chal; Nones when absent."""
    meta = chal.meta if chal is not None else None
    if meta is None:
        return None, None
    kind = canonical_type(meta.type) or None
    nonce = meta.next_nonce
    if nonce is not None and (meta.format or "b64").lower() != "b64":
        nonce = base64.b64encode(nonce.encode("latin-1", "replace")).decode("ascii")
    return kind, nonce
