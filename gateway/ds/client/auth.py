"""Our credentials for the server (omads-protocol.md §3.5, §4.1), with the server's math.

basic: B64("user:password"); md5: B64(MD5(B64(MD5("user:password")) + ":" + nonce)), the
nonce being the base64-decoded NextNonce the server gave us last (empty before the first
challenge). auth-MAC sends no Cred: each HTTP POST carries an ``x-syncml-hmac`` header
signing the exact body with the same nonce (ds/hmac.py). The digests and the secret are
the server's own functions (ds/auth.py, ds/hmac.py, store/accounts.py). The nonce is kept
per server URL in the client state. ``ClientAuth`` is one session's side of it: the type
in use, and what the server's Status for our SyncHdr means (accepted, challenge again,
or refused).
"""

from __future__ import annotations

import base64
import binascii

from gateway.ds.auth import BASIC, MD5, canonical_type, md5_digest
from gateway.ds.client.errors import AuthError, SyncFailed
from gateway.ds.client.settings import ClientSettings, carries_headers
from gateway.ds.client.state import ClientState
from gateway.ds.hmac import HEADER, MAC, compute_mac, format_header
from gateway.store.accounts import make_secret
from gateway.syncml.codes import StatusCode
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Chal, Cred, Status

REFUSED = (StatusCode.INVALID_CREDENTIALS, StatusCode.MISSING_CREDENTIALS)


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


class ClientAuth:
    """Our authentication in one session (the nonces and the type last asked for are
    kept per server URL in the client state)."""

    def __init__(self, settings: ClientSettings, state: ClientState):
        self.settings, self.state = settings, state
        self.type = state.auth_types.get(settings.url) or settings.auth_type
        self.accepted = False       # the server took our credentials for the session
        self.retries = 0            # messages sent again with new credentials

    def cred(self) -> Cred | None:
        """The Cred of our next SyncHdr (none once the server accepted us)."""
        if self.accepted or not self.type:
            return None
        s = self.settings
        return credentials(self.type, s.username, s.password, self.state.nonces.get(s.url))

    def headers(self, body: bytes) -> dict[str, str]:
        """Transport headers for ``body``: the auth-MAC signature, when we use auth-MAC."""
        s = self.settings
        return transport_headers(self.type, s.username, s.password,
                                 self.state.nonces.get(s.url), body)

    def header_status(self, st: Status) -> bool:
        """Take the server's Status for our SyncHdr; True when it asks us to send our
        first message again with credentials. AuthError / SyncFailed when it refuses."""
        url = self.settings.url
        kind, nonce = challenge(st.chal)
        if nonce is not None:
            self.state.nonces[url] = nonce
        if kind == MAC and not carries_headers(url):
            if st.data in REFUSED:
                raise AuthError("the server wants syncml:auth-MAC (HMAC), which needs HTTP")
            kind = None
        if kind:
            self.state.auth_types[url] = kind
        if st.data in REFUSED:
            if kind:
                self.type = kind
            if not self.type:
                raise AuthError(f"the server wants credentials ({st.data}) and we have none")
            self.retries += 1
            if self.retries > self.settings.max_auth_retries:
                raise AuthError("the server refused our credentials")
            return True
        if st.data == StatusCode.AUTH_ACCEPTED:
            self.accepted = True
        elif st.data == StatusCode.OK:
            self.accepted = st.chal is None   # 200 + Chal: credentials in every message
        else:
            raise SyncFailed(f"the server refused the session (status {st.data})")
        return False
