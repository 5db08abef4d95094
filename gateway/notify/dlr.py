"""SMS delivery reports (DLRs) through Kannel: the callback URL, its token, its parsing,
and how the reports of a notification's parts add up.

Kannel fetches the ``dlr-url`` given with a message (sendsms ``dlr-url``/``dlr-mask``; for
the PPG the ``X-Kannel-DLR-Url``/``X-Kannel-DLR-Mask`` request headers) once per report,
replacing ``%d`` by the report type, ``%A`` by the SMSC's answer (URL-encoded) and ``%T``
by the report's Unix time (Kannel user guide, "Delivery reports"). The URL names the
notification, the attempt and the SMS part, and carries a token: an HMAC of notification
and attempt under a secret the gateway keeps, so nobody else can settle a notification.

A notification sent as N parts is *delivered* once every part reports "delivered to the
phone" and *failed* as soon as one part reports "not delivered" or "rejected by the SMSC".
When no final report comes within the gateway's ``dlr_timeout``, a *timeout mark* (part 0,
stored with the reports) says so; later reports still count.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable, Mapping, Sequence

from gateway.notify.errors import DLRDecodeError


class DLRType(IntEnum):
    """Kannel's report types, the bits of ``dlr-mask`` (Kannel user guide, sendsms
    ``dlr-mask``; gw/dlr.h ``DLR_SUCCESS`` ... ``DLR_SMSC_FAIL``)."""

    DELIVERED = 1        # delivered to the phone (final)
    UNDELIVERED = 2      # not delivered to the phone (final)
    BUFFERED = 4         # queued on the SMSC (intermediate)
    SMSC_ACCEPTED = 8    # the SMSC took it (intermediate; bearerbox makes it on submit)
    SMSC_REJECTED = 16   # the SMSC refused it (final)


DLR_NAMES: dict[int, str] = {
    DLRType.DELIVERED: "delivered to the phone",
    DLRType.UNDELIVERED: "not delivered to the phone",
    DLRType.BUFFERED: "queued on the SMSC",
    DLRType.SMSC_ACCEPTED: "accepted by the SMSC",
    DLRType.SMSC_REJECTED: "rejected by the SMSC",
}
FAILED_TYPES = frozenset({DLRType.UNDELIVERED, DLRType.SMSC_REJECTED})
ALL_TYPES_MASK = 31
# A mask must ask for both final phone reports, or a notification could never settle.
REQUIRED_MASK = DLRType.DELIVERED | DLRType.UNDELIVERED

TIMEOUT_PART = 0            # the part number of the timeout mark (real parts are 1..255)
TIMEOUT_STATUS = 0          # its report type (no DLRType)

TOKEN_HEX = 32
MAX_ANSWER = 200            # characters of the SMSC answer kept
MAX_PARAM = 1024            # longer query values are refused
MAX_ID = 10 ** 15
MAX_PARTS = 255
_DIGITS = re.compile(r"[0-9]{1,16}")
_TOKEN = re.compile(f"[0-9a-f]{{{TOKEN_HEX}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def report_token(secret: bytes, notification_id: int, attempt: int) -> str:
    """The callback token of one attempt of one notification."""
    message = f"omads-dlr:{notification_id}:{attempt}".encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:TOKEN_HEX]


def check_token(secret: bytes, notification_id: int, attempt: int, token: str) -> bool:
    return hmac.compare_digest(report_token(secret, notification_id, attempt).encode("ascii"),
                               token.encode("ascii", "replace"))


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportTarget:
    """Where the reports of one attempt go: ``base`` is the gateway's notify admin
    listener as Kannel reaches it (``http://host:port``, maybe with a path prefix)."""

    base: str
    notification_id: int
    attempt: int
    token: str

    def url(self, part: int) -> str:
        """The ``dlr-url`` for SMS part ``part`` (1-based), with Kannel's escapes."""
        if not 1 <= part <= MAX_PARTS:
            raise ValueError(f"SMS part {part} out of range")
        return (f"{self.base.rstrip('/')}/notify/dlr?id={self.notification_id}"
                f"&try={self.attempt}&part={part}&token={self.token}"
                "&status=%d&answer=%A&ts=%T")


def make_target(*, base: str, secret: bytes, notification_id: int,
                attempt: int) -> ReportTarget:
    return ReportTarget(base=base, notification_id=notification_id, attempt=attempt,
                        token=report_token(secret, notification_id, attempt))


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """One callback, as Kannel made it."""

    notification_id: int
    attempt: int
    part: int
    status: int                 # a DLRType value
    token: str
    answer: str = ""
    time: float | None = None   # Kannel's %T; None when it sent none


def _one(args: Mapping[str, Sequence[str]], name: str, required: bool = True) -> str | None:
    values = args.get(name)
    if not values:
        if required:
            raise DLRDecodeError(f"parameter {name!r} is missing")
        return None
    if len(values) != 1:
        raise DLRDecodeError(f"parameter {name!r} is given {len(values)} times")
    if len(values[0]) > MAX_PARAM:
        raise DLRDecodeError(f"parameter {name!r} is over {MAX_PARAM} characters")
    return values[0]


def _required(args: Mapping[str, Sequence[str]], name: str) -> str:
    return _one(args, name) or ""


def _number(args: Mapping[str, Sequence[str]], name: str, lo: int, hi: int) -> int:
    text = _required(args, name)
    if not _DIGITS.fullmatch(text) or not lo <= int(text) <= hi:
        raise DLRDecodeError(f"parameter {name!r} must be a number from {lo} to {hi}, "
                             f"got {text[:40]!r}")
    return int(text)


def parse_report(args: Mapping[str, Sequence[str]]) -> Report:
    """A ``Report`` from the callback's decoded query; ``DLRDecodeError`` if malformed."""
    status = _number(args, "status", 0, 255)
    if status not in DLR_NAMES:
        raise DLRDecodeError(f"unknown report type {status}")
    token = _required(args, "token")
    if not _TOKEN.fullmatch(token):
        raise DLRDecodeError("malformed token")
    ts = _one(args, "ts", required=False)
    if ts is not None and ts != "" and not _DIGITS.fullmatch(ts):
        raise DLRDecodeError(f"parameter 'ts' must be a Unix time, got {ts[:40]!r}")
    answer = _CONTROL.sub(" ", _one(args, "answer", required=False) or "").strip()
    return Report(notification_id=_number(args, "id", 1, MAX_ID),
                  attempt=_number(args, "try", 1, MAX_ID),
                  part=_number(args, "part", 1, MAX_PARTS), status=status, token=token,
                  answer=answer[:MAX_ANSWER], time=float(ts) if ts else None)


# -- adding up the parts --------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, slots=True)
class PartReport:
    """A stored report of one part (``time``: Kannel's, else when it arrived)."""

    part: int
    status: int
    answer: str = ""
    time: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    state: str | None           # "delivered", "failed", or None while undecided
    summary: str                # per part, the report that counts
    time: float | None          # the newest report that counts


def _deciding(reports: list[PartReport]) -> PartReport | None:
    """The report that counts for one part: a failure, else a delivery, else the
    newest intermediate one."""
    for wanted in (lambda r: r.status in FAILED_TYPES,
                   lambda r: r.status == DLRType.DELIVERED, lambda r: True):
        found = [r for r in reports if wanted(r)]
        if found:
            return max(found, key=lambda r: r.time)
    return None


def timeout_text(timeout: float) -> str:
    return f"no delivery report within {timeout:g} s"


def timeout_mark(timeout: float, now: float) -> PartReport:
    """The mark stored when the wait for a final report ended without one."""
    return PartReport(part=TIMEOUT_PART, status=TIMEOUT_STATUS, answer=timeout_text(timeout),
                      time=now)


def outcome(parts: int, reports: Iterable[PartReport]) -> Outcome:
    """How the reports of ``parts`` SMS parts add up (a timeout mark among them heads the
    summary while no final outcome is known)."""
    if parts < 1:
        raise ValueError("a notification awaiting reports has at least one part")
    by_part: dict[int, list[PartReport]] = {}
    mark: PartReport | None = None
    for r in reports:
        if r.part == TIMEOUT_PART and r.status == TIMEOUT_STATUS:
            mark = r
        if 1 <= r.part <= parts:
            by_part.setdefault(r.part, []).append(r)
    counted = {p: _deciding(rs) for p, rs in by_part.items()}
    lines = []
    for p in range(1, parts + 1):
        r = counted.get(p)
        text = "no report yet" if r is None else DLR_NAMES.get(r.status, f"type {r.status}")
        if r is not None and r.answer:
            text += f" ({r.answer})"
        lines.append(text if parts == 1 else f"part {p}/{parts}: {text}")
    decided = [r for r in counted.values() if r is not None]
    if any(r.status in FAILED_TYPES for r in decided):
        state: str | None = "failed"
    elif len(decided) == parts and all(r.status == DLRType.DELIVERED for r in decided):
        state = "delivered"
    else:
        state = None
    when = max((r.time for r in decided), default=None)
    summary = "; ".join(lines)
    if mark is not None and state is None:
        summary = mark.answer + (f" ({summary})" if decided else "")
    return Outcome(state=state, summary=summary, time=when)
