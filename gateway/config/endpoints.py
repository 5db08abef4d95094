"""Syntax of Twisted server endpoint strings (``tcp:8080``, ``ssl:8443:privateKey=...``).

A light check without Twisted or I/O, so the configuration parser stays pure; the
listener is built with ``twisted.internet.endpoints.serverFromString`` when the service
tree is composed (that also opens TLS key files).
"""

from __future__ import annotations

__all__ = ["check_endpoint", "endpoint_fields", "ENDPOINT_KEYS"]


# Server endpoint types accepted for [http] listen, with their keyword arguments
# (twisted.internet.endpoints; "port" and "address" may also be positional).
ENDPOINT_KEYS: dict[str, frozenset[str]] = {
    "tcp": frozenset({"port", "interface", "backlog"}),
    "tcp6": frozenset({"port", "interface", "backlog"}),
    "ssl": frozenset({"port", "interface", "backlog", "privateKey", "certKey", "sslmethod",
                      "extraCertChain", "dhParameters"}),
    "unix": frozenset({"address", "mode", "backlog", "lockfile", "wantPID"}),
    "systemd": frozenset({"domain", "index", "name"}),
}


def _split_endpoint(desc: str) -> list[str]:
    """Split at unescaped colons, undoing backslash escapes (Twisted's string syntax)."""
    parts, cur, i = [], [], 0
    while i < len(desc):
        c = desc[i]
        if c == "\\" and i + 1 < len(desc):
            cur.append(desc[i + 1])
            i += 2
            continue
        if c == ":":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def endpoint_fields(desc: str) -> tuple[str, list[str], dict[str, str]]:
    """An endpoint string's type, positional and keyword parameters (unescaped)."""
    kind, *args = _split_endpoint(desc)
    positional = [a for a in args if "=" not in a]
    keywords = dict(a.partition("=")[::2] for a in args if "=" in a)
    return kind, positional, keywords


def check_endpoint(desc: str) -> str | None:
    """A light syntax check of a server endpoint string; the problem, or None if fine.

    Files named by it (TLS keys) are only opened when the service is built."""
    if not isinstance(desc, str) or not desc.strip():
        return "must be a non-empty endpoint string such as 'tcp:8080'"
    kind, *args = _split_endpoint(desc)
    if kind not in ENDPOINT_KEYS:
        return (f"endpoint {desc!r}: unknown type {kind!r} (use one of "
                + ", ".join(sorted(ENDPOINT_KEYS)) + ")")
    keywords: dict[str, str] = {}
    positional: list[str] = []
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep:
            if key not in ENDPOINT_KEYS[kind]:
                return f"endpoint {desc!r}: unknown parameter {key!r} for {kind}"
            keywords[key] = value
        else:
            positional.append(arg)
    if kind in ("tcp", "tcp6", "ssl"):
        port = positional[0] if positional else keywords.get("port")
        if len(positional) > 1:
            return f"endpoint {desc!r}: too many positional parameters"
        if port is None or not port.isdigit() or not 0 <= int(port) <= 65535:
            return f"endpoint {desc!r}: port must be a number 0-65535"
        if kind == "ssl" and "privateKey" not in keywords:
            return f"endpoint {desc!r}: ssl needs privateKey=PATH (and usually certKey=PATH)"
        if "backlog" in keywords and not keywords["backlog"].isdigit():
            return f"endpoint {desc!r}: backlog must be a number"
    elif kind == "unix":
        if not (any(positional) or keywords.get("address")):
            return f"endpoint {desc!r}: unix needs a socket path"
    elif kind == "systemd":
        if positional:
            return f"endpoint {desc!r}: systemd takes only domain=, index= or name="
        if "index" not in keywords and "name" not in keywords:
            return f"endpoint {desc!r}: systemd needs index=N or name=NAME"
        if "index" in keywords and not keywords["index"].isdigit():
            return f"endpoint {desc!r}: index must be a number"
    return None
