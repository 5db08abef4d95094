"""HMAC authentication, ``syncml:auth-MAC``, in the transport header (omads-protocol.md §4.1).

    x-syncml-hmac: algorithm=MD5, username="alice", mac=<base64>

``algorithm`` is optional (MD5 is the default and the only one defined); ``username`` and
``mac`` are required; values are tokens or quoted-strings. The mac is
B64(MD5(B64(MD5("user:password")) + ":" + nonce + ":" + B64(MD5(body)))) over the exact
bytes of the message body, the nonce being the raw bytes of the NextNonce last given.
``secret`` below is B64(MD5("user:password")), as ``Account.secret`` stores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.syncml.creds import b64_md5

MAC = "syncml:auth-MAC"
HEADER = "x-syncml-hmac"
DEFAULT_ALGORITHM = "MD5"
MAX_HEADER_LENGTH = 1024

_SEPARATORS = ",\""          # never inside an unquoted value


class HmacSyntaxError(ValueError):
    """The header value does not follow the grammar above."""


@dataclass(frozen=True, kw_only=True)
class HmacHeader:
    """A received ``x-syncml-hmac`` value; ``error`` is set when it was present but unusable."""

    username: str = ""
    mac: str = ""
    algorithm: str = DEFAULT_ALGORITHM
    error: str | None = None




def compute_mac(secret: str, nonce: bytes, body: bytes) -> str:
    """B64(MD5(secret + ":" + nonce + ":" + B64(MD5(body))))."""
    return b64_md5(secret.encode("utf-8") + b":" + bytes(nonce) + b":"
                   + b64_md5(body)).decode("ascii")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_header(username: str, mac: str, algorithm: str = DEFAULT_ALGORITHM) -> str:
    """The header value we send (username always quoted)."""
    return f"algorithm={algorithm}, username={_quote(username)}, mac={mac}"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _quoted(text: str, i: int) -> tuple[str, int]:
    """A quoted-string starting at text[i] == '"'; (its value, index after it)."""
    out = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                break
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise HmacSyntaxError("unterminated quoted-string")


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    i = _skip_ws(text, 0)
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0:
            raise HmacSyntaxError(f"expected name=value at offset {i}")
        name = text[i:eq].strip().lower()
        if not name or any(not (c.isalnum() or c in "-_") for c in name):
            raise HmacSyntaxError(f"bad parameter name {text[i:eq]!r}")
        i = _skip_ws(text, eq + 1)
        if i < len(text) and text[i] == '"':
            value, i = _quoted(text, i)
        else:
            start = i
            while i < len(text) and text[i] not in _SEPARATORS and text[i] not in " \t":
                i += 1
            value = text[start:i]
            if not value:
                raise HmacSyntaxError(f"empty value for {name!r}")
        if name in params:
            raise HmacSyntaxError(f"parameter {name!r} given twice")
        params[name] = value
        i = _skip_ws(text, i)
        if i < len(text):
            if text[i] != ",":
                raise HmacSyntaxError(f"expected ',' at offset {i}")
            i = _skip_ws(text, i + 1)
            if i >= len(text):
                raise HmacSyntaxError("trailing ','")
    return params


def parse_header(value: str | bytes) -> HmacHeader:
    """Parse one header value; raises HmacSyntaxError (only) when it is unusable."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise HmacSyntaxError("header is not UTF-8") from None
    if len(value) > MAX_HEADER_LENGTH:
        raise HmacSyntaxError(f"header longer than {MAX_HEADER_LENGTH} characters")
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in value):
        raise HmacSyntaxError("control character in header")
    params = _params(value.strip())
    username, mac = params.get("username", ""), params.get("mac", "")
    if not username:
        raise HmacSyntaxError("username missing")
    if not mac:
        raise HmacSyntaxError("mac missing")
    algorithm = params.get("algorithm", DEFAULT_ALGORITHM)
    return HmacHeader(username=username, mac=mac, algorithm=algorithm)


def read_header(values: Sequence[str | bytes] | None) -> HmacHeader | None:
    """The transport's raw values of the header -> None (absent) or an HmacHeader whose
    ``error`` says why it is unusable (bad syntax, given more than once). Never raises."""
    if not values:
        return None
    if len(values) > 1:
        return HmacHeader(error="header given more than once")
    try:
        return parse_header(values[0])
    except HmacSyntaxError as exc:
        return HmacHeader(error=str(exc))
