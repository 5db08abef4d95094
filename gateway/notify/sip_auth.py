"""HTTP digest authentication for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616 algorithms).

``parse_challenge`` reads a WWW-Authenticate / Proxy-Authenticate value;
``authorization`` answers it (qop=auth with nc and cnonce when offered, else the RFC 2069
form). The cnonce is passed in: the core makes no random numbers of its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from gateway.notify.errors import SIPDecodeError

# RFC 7616 §3.4.1 / RFC 8760: algorithm name -> hash.
ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,"]*)\s*(,|$)')


@dataclass(frozen=True, kw_only=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def parse_challenge(value: str) -> Challenge:
    """A ``Digest`` challenge; SIPDecodeError for anything else or a missing nonce/realm."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SIPDecodeError(f"unsupported authentication scheme {scheme!r}")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m or m.end() == pos:
            raise SIPDecodeError("malformed challenge parameters", offset=pos)
        raw = m.group(3) if m.group(3) is not None else m.group(2)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", raw)
        pos = m.end()
    if "nonce" not in params or "realm" not in params:
        raise SIPDecodeError("digest challenge without realm or nonce")
    return Challenge(realm=params["realm"], nonce=params["nonce"],
                     algorithm=params.get("algorithm", "MD5"),
                     qop=tuple(q.strip() for q in params.get("qop", "").split(",") if q.strip()),
                     opaque=params.get("opaque"), stale=params.get("stale", "").lower() == "true")


def _hash(algorithm: str):
    h = ALGORITHMS.get(algorithm.upper().removesuffix("-SESS"))
    if h is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return h


def digest_response(*, username: str, password: str, realm: str, nonce: str, method: str,
                    uri: str, algorithm: str = "MD5", qop: str | None = None, nc: int = 1,
                    cnonce: str = "", body: bytes = b"") -> str:
    """The ``response`` value (RFC 2617 §3.2.2.1; RFC 7616 §3.4.1 for SHA-256)."""
    h = _hash(algorithm)

    def H(text: str) -> str:
        return h(text.encode("utf-8")).hexdigest()

    ha1 = H(f"{username}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = H(f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        ha2 = H(f"{method}:{uri}:{h(body).hexdigest()}")
    else:
        ha2 = H(f"{method}:{uri}")
    if qop:
        return H(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")
    return H(f"{ha1}:{nonce}:{ha2}")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(challenge: Challenge, *, username: str, password: str, method: str,
                  uri: str, cnonce: str, nc: int = 1, body: bytes = b"") -> str:
    """The Authorization / Proxy-Authorization value answering ``challenge``."""
    qop = "auth" if "auth" in challenge.qop else ("auth-int" if "auth-int" in challenge.qop
                                                    else None)
    resp = digest_response(username=username, password=password, realm=challenge.realm,
                           nonce=challenge.nonce, method=method, uri=uri,
                           algorithm=challenge.algorithm, qop=qop, nc=nc, cnonce=cnonce,
                           body=body)
    parts = [f"username={_quote(username)}", f"realm={_quote(challenge.realm)}",
             f"nonce={_quote(challenge.nonce)}", f"uri={_quote(uri)}",
             f"response={_quote(resp)}", f"algorithm={challenge.algorithm}"]
    if qop:
        parts += [f"qop={qop}", f"nc={nc:08x}", f"cnonce={_quote(cnonce)}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={_quote(challenge.opaque)}")
    return "Digest " + ", ".join(parts)
