"""Account secrets: B64(H(user:pass)), the stored form auth-basic, auth-md5 and HMAC use.

OMA DS 1.2 (Representation Protocol, section on authentication) defines the MD5 digest
credential as B64(H(B64(H(username:password)):nonce)); the inner B64(H(username:password))
is what ``Account.secret`` holds, so the plain password is never stored.
"""

from __future__ import annotations

import hmac

from gateway.store.base import Account
from gateway.syncml.creds import md5_secret


def make_secret(username: str, password: str) -> str:
    """B64(MD5("username:password")), both strings encoded as UTF-8."""
    return md5_secret(username, password)


def check_basic(account: Account, username: str, password: str) -> bool:
    """Whether auth-basic credentials match an enabled account (constant-time compare)."""
    same_secret = hmac.compare_digest(make_secret(username, password).encode("ascii"),
                                      account.secret.encode("utf-8"))
    same_user = hmac.compare_digest(username.encode("utf-8"), account.username.encode("utf-8"))
    return same_secret and same_user and account.enabled
