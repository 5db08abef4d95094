"""SMS through Kannel's smsbox ``sendsms`` HTTP interface (Kannel user guide, "Sending SMS").

One GET per notification: ``udh`` = the 16-bit port IE for 2948 (``06 05 04 0B 84 23 F0``),
``text`` = the WSP push PDU, ``coding=1`` (8-bit); both binary values URL-encoded. Kannel
splits a long push itself and adds the concatenation IE after ours (peers lab §1.3; the
sendsms-user needs ``concatenation = true`` and ``max-messages`` > 1). The request carries
no User-Agent or Accept header. Answer 202 "0: Accepted…" or "3: Queued…" means sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes, urlencode

from twisted.internet.defer import inlineCallbacks
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from gateway.notify.udh import UserDataHeader, port_element
from gateway.transport.notify_carriers import CarrierError, Sent, read_body, sms_parts_for
from gateway.transport.notify_payload import Payload

PORT_UDH = UserDataHeader(elements=(port_element(),)).encode()
MAX_ANSWER = 4096


def sendsms_url(settings: Any, msisdn: str, push: bytes) -> str:
    query = {"username": settings.username, "password": settings.password, "to": msisdn,
             "coding": "1"}
    if settings.sender:
        query["from"] = settings.sender
    if settings.smsc:
        query["smsc"] = settings.smsc
    binary = (f"udh={quote_from_bytes(PORT_UDH, safe='')}"
              f"&text={quote_from_bytes(push, safe='')}")
    return f"{settings.url}?{urlencode(query)}&{binary}"


class KannelCarrier:
    kind = "kannel"
    sms = True

    def __init__(self, settings: Any, *, reactor: Any, agent: Any = None):
        self.settings = settings
        self.agent = agent or Agent(reactor, connectTimeout=10)

    def sms_parts(self, payload: Payload) -> int:
        return sms_parts_for(payload.push)

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        url = sendsms_url(self.settings, address, payload.push)
        try:
            response = yield self.agent.request(b"GET", url.encode("ascii"), Headers({}))
            body = yield read_body(response, MAX_ANSWER)
        except Exception as e:
            raise CarrierError(f"Kannel sendsms unreachable: {e}") from None
        text = body[:MAX_ANSWER].decode("utf-8", "replace").strip()
        if response.code == 202 or (response.code == 200 and text[:2] in ("0:", "3:")):
            return Sent(detail=f"Kannel {response.code} {text}")
        raise CarrierError(f"Kannel answered {response.code}: {text}")

    def stop(self) -> None:
        return None
