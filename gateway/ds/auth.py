"""Authentication of a client (omads-protocol.md §3.5): auth-basic, auth-md5, auth-MAC.

md5: B64(MD5(B64(MD5("user:pass")) + ":" + nonce)), the nonce being the raw bytes we
last gave the device (empty for a device we never challenged). ``Account.secret`` already
holds B64(MD5("user:pass")). On success the device gets a fresh nonce (212 + Chal); bad
credentials get 401 + Chal, missing ones 407 + Chal, an unknown type 406. Repeated
failures per device id or peer address within a window are refused without checking.
auth-MAC (§4.1, ds/hmac.py) comes in the transport header, not in Cred, and uses the
same per-device nonce as md5; a header that cannot be parsed counts as bad credentials.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, replace
from typing import Callable

from gateway.ds.hmac import MAC, HmacHeader, compute_mac
from gateway.ds.settings import ServerSettings
from gateway.store.base import Device
from gateway.syncml.codes import StatusCode
from gateway.syncml.creds import cred_text, md5_digest, md5_secret
from gateway.syncml.metinf import Meta
from gateway.syncml.model import Chal, Cred

BASIC = "syncml:auth-basic"
MD5 = "syncml:auth-md5"
KNOWN_TYPES = (BASIC, MD5, MAC)
CRED_TYPES = (BASIC, MD5)          # the types that travel in Cred
NONCE_TYPES = (MD5, MAC)           # the types a NextNonce serves
_CANONICAL = {t.lower(): t for t in KNOWN_TYPES}
UNKNOWN_TYPE = StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED    # an auth type we do not know


def canonical_type(text: str | None) -> str:
    """An auth type as we spell it (matched case-insensitively); unknown ones lower-cased."""
    key = (text or "").strip().lower()
    return _CANONICAL.get(key, key)


@dataclass(frozen=True, kw_only=True)
class AuthOutcome:
    status: int                 # 212 accepted, 200 anonymous, 401, 407, 406
    username: str | None = None
    chal: Chal | None = None
    account: str | None = None  # the account the client tried (for the operator)
    scheme: str = ""            # basic, md5, mac ("" when none was tried)
    reason: str = ""            # why it was refused, in words

    @property
    def ok(self) -> bool:
        return self.status in (StatusCode.OK, StatusCode.AUTH_ACCEPTED)


def _throttle_keys(device_id: str, peer: str) -> list[str]:
    keys = ["device:" + device_id] if device_id else []
    if peer:
        keys.append("peer:" + peer)
    return keys


class Authenticator:
    """One decision per message that carries (or lacks) credentials."""

    def __init__(self, settings: ServerSettings, random_bytes: Callable[[int], bytes]):
        self.settings = settings
        self.random_bytes = random_bytes

    def challenge(self, tx, device_id: str, username: str | None, now: float) -> Chal:
        """A Chal with a new nonce, remembered for the device."""
        kind = self.settings.auth_types[0]
        if kind not in NONCE_TYPES:
            return Chal(meta=Meta(type=kind, format="b64"))
        return self._nonce_chal(tx, kind, device_id, username, now)

    def _nonce_chal(self, tx, kind: str, device_id: str, username: str | None,
                    now: float) -> Chal:
        """A Chal of ``kind`` with a fresh NextNonce, remembered for the device."""
        nonce = self.random_bytes(12)
        if device_id:
            dev = tx.get_device(device_id) or Device(device_id=device_id, username=username)
            tx.put_device(replace(dev, nonce=nonce, last_seen=now,
                                  username=username or dev.username))
        return Chal(meta=Meta(type=kind, format="b64",
                              next_nonce=base64.b64encode(nonce).decode("ascii")))

    def _refuse(self, tx, code: int, device_id: str, username: str | None,
                now: float, *, reason: str, account: str | None = None,
                scheme: str = "") -> AuthOutcome:
        return AuthOutcome(status=code, chal=self.challenge(tx, device_id, username, now),
                           account=account, scheme=scheme, reason=reason)

    def throttled(self, tx, device_id: str, peer: str, now: float) -> bool:
        since = now - self.settings.failed_login_window
        return any(tx.count_auth_failures(k, since) >= self.settings.max_failed_logins
                   for k in _throttle_keys(device_id, peer))

    def authenticate(self, tx, *, cred: Cred | None, device_id: str, loc_name: str | None,
                     peer: str, now: float, anonymous_ok: bool,
                     mac_header: HmacHeader | None = None, body: bytes = b"") -> AuthOutcome:
        """``mac_header``: the parsed transport header; ``body``: the exact bytes it signs."""
        if cred is None and mac_header is None:
            if anonymous_ok:
                return AuthOutcome(status=StatusCode.OK, username=None)
            return self._refuse(tx, StatusCode.MISSING_CREDENTIALS, device_id, loc_name, now,
                                reason="no credentials", account=loc_name)
        if self.throttled(tx, device_id, peer, now):
            return self._refuse(
                tx, StatusCode.INVALID_CREDENTIALS, device_id, loc_name, now, account=loc_name,
                reason=f"throttled: {self.settings.max_failed_logins} failed logins within "
                       f"{self.settings.failed_login_window:g} s")
        username = None
        if mac_header is not None and (cred is None or MAC in self.settings.auth_types):
            kind = MAC
            if mac_header.error is None and mac_header.algorithm.upper() != "MD5":
                return self._refuse(tx, UNKNOWN_TYPE, device_id, loc_name, now,
                                    scheme="mac", account=mac_header.username or loc_name,
                                    reason=f"unknown HMAC algorithm {mac_header.algorithm!r}")
            tried, why = mac_header.username or loc_name, f"{MAC} is not accepted"
            if MAC in self.settings.auth_types:
                username, tried, why = self._check_mac(tx, mac_header, body, device_id, loc_name)
        else:
            kind = canonical_type((cred.meta.type if cred.meta else None) or BASIC)
            if kind not in CRED_TYPES:
                return self._refuse(tx, UNKNOWN_TYPE, device_id, loc_name, now,
                                    account=loc_name, reason=f"unknown auth type {kind!r}")
            tried, why = loc_name, f"{kind} is not accepted"
            if kind in self.settings.auth_types:
                if kind == BASIC:
                    username, tried, why = self._check_basic(tx, cred)
                else:
                    username, tried, why = self._check_md5(tx, cred, device_id, loc_name)
        if username is None:
            for key in _throttle_keys(device_id, peer):
                tx.record_auth_failure(key, now)
            return self._refuse(tx, StatusCode.INVALID_CREDENTIALS, device_id, loc_name, now,
                                account=tried, scheme=_SCHEMES.get(kind, kind), reason=why)
        for key in _throttle_keys(device_id, peer):
            tx.clear_auth_failures(key)
        # Like SyncEvolution: always hand out the nonce for the next session, for the
        # type just used if it takes one, else for the first configured type that does.
        nonce_kind = kind if kind in NONCE_TYPES else next(
            (t for t in self.settings.auth_types if t in NONCE_TYPES), None)
        chal = (self._nonce_chal(tx, nonce_kind, device_id, username, now)
                if nonce_kind is not None else None)
        return AuthOutcome(status=StatusCode.AUTH_ACCEPTED, username=username, chal=chal,
                           account=username, scheme=_SCHEMES.get(kind, kind))

    # Each check: (the user when accepted, the account tried, why it was refused).
    def _check_basic(self, tx, cred: Cred) -> Checked:
        text = cred_text(cred.data)
        if not text:
            return None, None, "empty auth-basic credentials"
        try:
            plain = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None, None, "auth-basic credentials are not base64 of user:password"
        user, sep, password = plain.partition(":")
        if not sep:
            return None, None, "auth-basic credentials without user:password"
        refused = _account_problem(tx.get_account(user), user)
        if refused:
            return None, user, refused
        secret = md5_secret(user, password)
        if hmac.compare_digest(secret, tx.get_account(user).secret):
            return user, user, ""
        return None, user, "wrong password"

    def _check_md5(self, tx, cred: Cred, device_id: str, loc_name: str | None) -> Checked:
        if not loc_name:
            return None, None, "auth-md5 without a LocName (the account)"
        text = cred_text(cred.data)
        account = tx.get_account(loc_name)
        refused = _account_problem(account, loc_name)
        if refused or not text:
            return None, loc_name, refused or "empty auth-md5 credentials"
        dev = tx.get_device(device_id) if device_id else None
        nonce = dev.nonce if dev is not None else b""
        expected = md5_digest(account.secret, bytes(nonce))
        if hmac.compare_digest(expected.encode(), text.encode()):
            return loc_name, loc_name, ""
        return None, loc_name, "wrong password (or a stale nonce)"

    def _check_mac(self, tx, header: HmacHeader, body: bytes, device_id: str,
                   loc_name: str | None) -> Checked:
        """The header's user when its mac signs ``body`` with the device's nonce."""
        if header.error is not None or not header.username or not header.mac:
            return None, header.username or loc_name, "unreadable x-syncml-hmac header"
        if loc_name and loc_name != header.username:    # §4.1: username = LocName
            return None, header.username, f"HMAC user is not the LocName {loc_name!r}"
        account = tx.get_account(header.username)
        refused = _account_problem(account, header.username)
        if refused:
            return None, header.username, refused
        dev = tx.get_device(device_id) if device_id else None
        nonce = dev.nonce if dev is not None and dev.nonce is not None else b""
        expected = compute_mac(account.secret, bytes(nonce), body)
        ok = hmac.compare_digest(expected.encode("ascii"), header.mac.strip().encode("utf-8"))
        if ok:
            return header.username, header.username, ""
        return None, header.username, "wrong HMAC (password or nonce)"


Checked = tuple["str | None", "str | None", str]
_SCHEMES = {BASIC: "basic", MD5: "md5", MAC: "mac"}


def _account_problem(account, name: str) -> str:
    """Why ``account`` cannot log in ("" if it can)."""
    if account is None:
        return f"no account {name!r}"
    if not account.enabled:
        return f"account {name!r} is disabled"
    return ""
