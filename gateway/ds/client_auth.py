"""Our credentials for the server (omads-protocol.md §3.5), with the server's math.

basic: B64("user:password"); md5: B64(MD5(B64(MD5("user:password")) + ":" + nonce)), the
nonce being the base64-decoded NextNonce the server gave us last (empty before the first
challenge). The digest and the secret are the server's own functions (ds/auth.py,
store/accounts.py). The nonce is kept per server URL in the client state.
"""

from __future__ import annotations

import base64
import binascii

from gateway.ds.auth import BASIC, MD5, md5_digest
from gateway.store.accounts import make_secret
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Chal, Cred


def credentials(auth_type: str, username: str, password: str,
                nonce_b64: str | None) -> Cred | None:
    if auth_type == BASIC:
        data = base64.b64encode(f"{username}:{password}".encode("utf-8")).decode("ascii")
        return Cred(meta=Meta(type=BASIC, format="b64"), data=data)
    if auth_type == MD5:
        try:
            nonce = base64.b64decode(nonce_b64 or "", validate=False)
        except (binascii.Error, ValueError):
            nonce = b""
        return Cred(meta=Meta(type=MD5, format="b64"),
                    data=md5_digest(make_secret(username, password), nonce))
    return None


def challenge(chal: Chal | None) -> tuple[str | None, str | None]:
    """(auth type, b64 NextNonce) of a Chal; Nones when absent."""
    meta = chal.meta if chal is not None else None
    if meta is None:
        return None, None
    kind = (meta.type or "").strip().lower() or None
    nonce = meta.next_nonce
    if nonce is not None and (meta.format or "b64").lower() != "b64":
        nonce = base64.b64encode(nonce.encode("latin-1", "replace")).decode("ascii")
    return kind, nonce
