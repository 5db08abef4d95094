"""SMS through Kannel's smsbox ``sendsms`` HTTP interface (Kannel user guide, "Sending SMS").

One GET per notification: ``udh`` = the 16-bit port IE for 2948 (``06 05 04 0B 84 23 F0``),
``text`` = the WSP push PDU, ``coding=1`` (8-bit); both binary values URL-encoded. Kannel
splits a long push itself and adds the concatenation IE after ours (peers lab §1.3; the
sendsms-user needs ``concatenation = true`` and ``max-messages`` > 1). The request carries
no User-Agent or Accept header. Answer 202 "0: Accepted…" or "3: Queued…" means sent.

With ``dlr = true`` (and a report target on the payload) every request also carries
``dlr-mask`` and a ``dlr-url`` back to the gateway (gateway/notify/dlr.py). Kannel keeps the
report request only on the first part of a message it splits itself (gw/sms.c
``sms_split``; measured: one report per type for a 2-part push), so the gateway then splits
the push itself and sends one GET per part, each with its own concatenation IE and its own
``dlr-url`` naming the part.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes, urlencode

from twisted.internet.defer import inlineCallbacks
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from gateway.notify.udh import UserDataHeader, port_element, split_user_data
from gateway.transport.notify.carriers.base import (CarrierError, Sent, http_request,
                                                    sms_parts_for)
from gateway.notifier.payload import Payload

PORT_UDH = UserDataHeader(elements=(port_element(),)).encode()
MAX_ANSWER = 4096


def sendsms_url(settings: Any, msisdn: str, push: bytes, *, udh: bytes = PORT_UDH,
                dlr_url: str | None = None) -> str:
    query = {"username": settings.username, "password": settings.password, "to": msisdn,
             "coding": "1"}
    if settings.sender:
        query["from"] = settings.sender
    if settings.smsc:
        query["smsc"] = settings.smsc
    if dlr_url is not None:
        query["dlr-mask"] = str(settings.dlr_mask)
        query["dlr-url"] = dlr_url
    binary = (f"udh={quote_from_bytes(udh, safe='')}"
              f"&text={quote_from_bytes(push, safe='')}")
    return f"{settings.url}?{urlencode(query)}&{binary}"


def report_parts(payload: Payload) -> list[tuple[bytes, bytes]]:
    """(UDH, data) per SMS when the gateway splits the push itself (reference: the low
    byte of the notification id, so parts of different notifications differ)."""
    ref = payload.reports.notification_id & 0xFF if payload.reports else 0
    return [(udh.encode(), chunk) for udh, chunk in split_user_data(payload.push, ref=ref)]


class KannelCarrier:
    kind = "kannel"
    sms = True

    def __init__(self, settings: Any, *, reactor: Any, agent: Any = None):
        self.settings = settings
        self.agent = agent or Agent(reactor, connectTimeout=10)

    def sms_parts(self, payload: Payload) -> int:
        return sms_parts_for(payload.push)

    @inlineCallbacks
    def _get(self, url: str) -> Any:
        response, body = yield http_request(self.agent, b"GET", url, Headers({}),
                                            limit=MAX_ANSWER, what="Kannel sendsms")
        text = body.decode("utf-8", "replace").strip()
        if response.code == 202 or (response.code == 200 and text[:2] in ("0:", "3:")):
            return f"Kannel {response.code} {text}"
        raise CarrierError(f"Kannel answered {response.code}: {text}")

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        target = payload.reports if getattr(self.settings, "dlr", False) else None
        if target is None:
            detail = yield self._get(sendsms_url(self.settings, address, payload.push))
            return Sent(detail=detail)
        parts = report_parts(payload)
        details = []
        for n, (udh, data) in enumerate(parts, start=1):
            try:
                detail = yield self._get(sendsms_url(self.settings, address, data, udh=udh,
                                                     dlr_url=target.url(n)))
            except CarrierError as e:
                if n == 1:
                    raise
                raise CarrierError(f"part {n}/{len(parts)}: {e.reason} (parts before it "
                                   "were accepted)") from None
            details.append(detail)
        summary = details[0] if len(details) == 1 else f"{len(details)} parts: {details[0]}"
        return Sent(detail=summary + "; awaiting delivery reports", report_parts=len(parts))

    def stop(self) -> None:
        return None
