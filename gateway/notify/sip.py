"""SIP messages (RFC 3261 §7, RFC 3428 MESSAGE, RFC 6665 NOTIFY) with binary bodies.

Twisted's ``twisted.protocols.sip`` cannot carry a binary SAN body, so requests are
written and responses parsed here: start line, headers (compact forms and folded lines
accepted), and a body sized by Content-Length. A DS SAN goes in a MESSAGE with
``Accept-Contact: *;+g.oma.pusheventapp="push.syncml";require;explicit`` (the reference's
working hypothesis, omads-protocol.md §7.4: UNCONFIRMED) or, where configured, a NOTIFY
with Event and Subscription-State.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.notify.errors import SIPDecodeError
from gateway.notify.wsp import SAN_CONTENT_TYPE

SIP_VERSION = "SIP/2.0"
BRANCH_MAGIC = "z9hG4bK"         # RFC 3261 §8.1.1.7
SAN_ACCEPT_CONTACT = '*;+g.oma.pusheventapp="push.syncml";require;explicit'
MAX_UDP_MESSAGE = 1300           # RFC 3261 §18.1.1 / RFC 3428 §4 size rule

# RFC 3261 §7.3.3 and later RFCs (3265, 3515, 3841, 4028): compact header names.
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "o": "Event", "r": "Refer-To", "s": "Subject",
    "t": "To", "u": "Allow-Events", "v": "Via", "x": "Session-Expires",
}
# Header names whose usual spelling is not plain capitalisation.
SPELLINGS: dict[str, str] = {
    "call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version", "p-asserted-identity": "P-Asserted-Identity",
}

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9]{2}) ?(.*)")
_REQUEST_LINE = re.compile(r"([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0")


def canonical_name(name: str) -> str:
    low = name.strip().lower()
    if low in COMPACT_FORMS:
        return COMPACT_FORMS[low]
    return SPELLINGS.get(low) or "-".join(p.capitalize() for p in low.split("-"))


@dataclass(frozen=True, kw_only=True, slots=True)
class _Headers:
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header (names compared case-insensitively, compact too)."""
        want = canonical_name(name)
        return next((v for n, v in self.headers if canonical_name(n) == want), None)

    def header_values(self, name: str) -> list[str]:
        want = canonical_name(name)
        return [v for n, v in self.headers if canonical_name(n) == want]

    def _head_bytes(self, start: str) -> bytes:
        lines = [start] + [f"{n}: {v}" for n, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@dataclass(frozen=True, kw_only=True, slots=True)
class SipRequest(_Headers):
    method: str
    uri: str

    def __bytes__(self) -> bytes:
        return self._head_bytes(f"{self.method} {self.uri} {SIP_VERSION}") + self.body


@dataclass(frozen=True, kw_only=True, slots=True)
class SipResponse(_Headers):
    status: int
    reason: str = ""

    def __bytes__(self) -> bytes:
        return self._head_bytes(f"{SIP_VERSION} {self.status} {self.reason}") + self.body


def _check(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{what} must not contain a line break")
    return value


def build_request(*, method: str, request_uri: str, to_uri: str, from_uri: str, from_tag: str,
                  call_id: str, cseq: int, branch: str, via_host: str, via_port: int,
                  transport: str = "UDP", body: bytes = b"",
                  content_type: str = SAN_CONTENT_TYPE, max_forwards: int = 70,
                  extra_headers: tuple[tuple[str, str], ...] = ()) -> SipRequest:
    """A request outside a dialog (RFC 3261 §8.1.1); Content-Length always present."""
    if not _TOKEN.fullmatch(method) or not branch.startswith(BRANCH_MAGIC):
        raise ValueError("bad method or branch (it must start with z9hG4bK)")
    headers = [
        ("Via", f"{SIP_VERSION}/{transport.upper()} {via_host}:{via_port};branch={branch};rport"),
        ("Max-Forwards", str(max_forwards)),
        ("From", f"<{from_uri}>;tag={from_tag}"),
        ("To", f"<{to_uri}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
        *extra_headers,
    ]
    if body or content_type:
        headers.append(("Content-Type", content_type))
    headers.append(("Content-Length", str(len(body))))
    for n, v in headers:
        _check(n, "header name")
        _check(v, n)
    return SipRequest(method=method, uri=_check(request_uri, "request URI"),
                      headers=tuple(headers), body=body)


def san_headers(*, method: str = "MESSAGE", accept_contact: str | None = SAN_ACCEPT_CONTACT,
                event: str | None = None, subscription_state: str | None = "terminated"
                ) -> tuple[tuple[str, str], ...]:
    """The method-specific headers of a SAN request: Accept-Contact for MESSAGE, Event and
    Subscription-State for NOTIFY (RFC 6665 §8.2)."""
    out: list[tuple[str, str]] = []
    if accept_contact:
        out.append(("Accept-Contact", accept_contact))
    if method == "NOTIFY":
        if not event:
            raise ValueError("NOTIFY needs an Event package name")
        out.append(("Event", event))
        out.append(("Subscription-State", subscription_state or "terminated"))
    return tuple(out)


# -- parsing ----------------------------------------------------------------------------------


def parse_message(data: bytes, *, max_size: int = 65535, max_headers: int = 100,
                  stream: bool = False) -> SipRequest | SipResponse:
    """One SIP message from a datagram. Without Content-Length the rest of the datagram is
    the body (RFC 3261 §18.3); ``stream=True`` requires Content-Length."""
    if len(data) > max_size:
        raise SIPDecodeError(f"SIP message over {max_size} bytes", offset=max_size)
    data = data.lstrip(b"\r\n")          # keep-alive CRLFs before a message are allowed
    end = data.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = data.find(b"\n\n"), 2
    if end < 0:
        raise SIPDecodeError("no blank line after the headers", offset=len(data))
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError as err:
        raise SIPDecodeError("header section is not UTF-8", offset=err.start) from err
    lines = re.split(r"\r?\n", head)
    unfolded: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        else:
            unfolded.append(line)
    if len(unfolded) > max_headers:
        raise SIPDecodeError("too many header lines", offset=0)
    headers = []
    for line in unfolded:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name.strip()):
            raise SIPDecodeError(f"bad header line {line[:40]!r}", offset=data.find(line.encode()))
        headers.append((name.strip(), value.strip()))
    body = data[end + sep:]
    length = next((v for n, v in headers if canonical_name(n) == "Content-Length"), None)
    if length is not None:
        if not length.isdigit() or int(length) > len(body):
            raise SIPDecodeError(f"Content-Length {length!r} does not match the body",
                                 offset=end + sep)
        body = body[:int(length)]
    elif stream:
        raise SIPDecodeError("Content-Length is required on a stream", offset=end)
    start = lines[0]
    m = _STATUS_LINE.fullmatch(start)
    if m:
        return SipResponse(status=int(m.group(1)), reason=m.group(2), headers=tuple(headers),
                           body=bytes(body))
    m = _REQUEST_LINE.fullmatch(start)
    if m:
        return SipRequest(method=m.group(1), uri=m.group(2), headers=tuple(headers),
                          body=bytes(body))
    raise SIPDecodeError(f"bad start line {start[:60]!r}", offset=0)


_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$",
                             re.IGNORECASE | re.MULTILINE)


def split_stream(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Cut the complete messages off the front of a stream (TCP: each one ends after its
    Content-Length, RFC 3261 §18.3; none means no body); returns them and the rest."""
    messages = []
    while (end := buffer.find(b"\r\n\r\n")) >= 0:
        m = _CONTENT_LENGTH.search(buffer[:end])
        size = end + 4 + (int(m.group(1)) if m else 0)
        if len(buffer) < size:
            break
        messages.append(buffer[:size])
        buffer = buffer[size:]
    return messages, buffer


def top_via_branch(msg: SipRequest | SipResponse) -> str | None:
    """The branch parameter of the first Via value."""
    via = msg.header("Via")
    if via is None:
        return None
    first = via.split(",", 1)[0]
    m = re.search(r";\s*branch\s*=\s*([^;,\s]+)", first, re.IGNORECASE)
    return m.group(1) if m else None


def cseq_of(msg: SipRequest | SipResponse) -> tuple[int, str] | None:
    value = msg.header("CSeq")
    m = re.fullmatch(r"\s*(\d{1,10})\s+(\S+)\s*", value or "")
    return (int(m.group(1)), m.group(2)) if m else None
