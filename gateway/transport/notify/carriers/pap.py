"""WAP Push through a Push Proxy Gateway (PAP 2.0 over HTTP, e.g. Kannel's wapbox).

POST of a multipart/related document (``notify.pap.build_push_request``): the PAP
control entity addressed ``WAPPUSH=<msisdn>/TYPE=PLMN@<ppg_host>`` and the SAN with
``X-Wap-Application-Id: x-wap-application:push.syncml``, labelled with the payload's
media type (the SyncML type for the legacy 1.1 form). Credentials go in the query
(Kannel's ``username``/``password``). Only Content-Type is sent as a header of our own:
Kannel copies a PI's request headers (User-Agent, Accept...) into the pushed WSP headers
(peers lab §1.3). A PAP result code 1xxx means the PPG accepted it: sent.

Delivery reports: PAP's own result notification (``ppg-notify-requested-to``, WAP-247
§9.4) is not usable with Kannel 1.4: its PPG parses the attribute but never sends a
resultnotification-message (gw/wap_push_ppg.c stores it and nothing reads it; measured with
Kannel 1.4.5: pushes accepted with code 1001, no request to the given URL). Kannel's own
extension works instead: with ``dlr = true`` the POST carries ``X-Kannel-DLR-Url`` and
``X-Kannel-DLR-Mask`` (removed before the push is encoded, so they do not reach the
handset); bearerbox reports through an smsbox, which calls the URL. A push the PPG has
split gets reports for its first SMS only (Kannel asks none for the other parts), so the
gateway awaits one report and counts it for the whole push.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from twisted.internet.defer import inlineCallbacks
from twisted.web.client import Agent
from twisted.web.http_headers import Headers

from gateway.notify.errors import PAPDecodeError
from gateway.notify.pap import build_push_request, parse_push_response
from gateway.transport.notify.carriers.base import (
    PPG_HEADER_ALLOWANCE, CarrierError, Sent, http_request, sms_parts_for)
from gateway.notifier.payload import Payload

MAX_ANSWER = 65536


def ppg_url(settings: Any) -> str:
    if settings.username is None:
        return settings.url
    return settings.url + "?" + urlencode({"username": settings.username,
                                           "password": settings.password or ""})


class PAPCarrier:
    kind = "pap"
    sms = True

    def __init__(self, settings: Any, *, reactor: Any, agent: Any = None):
        self.settings = settings
        self.agent = agent or Agent(reactor, connectTimeout=10)

    def sms_parts(self, payload: Payload) -> int:
        return sms_parts_for(payload.san, extra=PPG_HEADER_ALLOWANCE)

    @inlineCallbacks
    def send(self, address: str, payload: Payload) -> Any:
        push_id = f"{secrets.token_hex(8)}@omads-gateway"
        boundary = "omads-" + secrets.token_hex(12)
        try:
            request = build_push_request(san=payload.san, push_id=push_id, number=address,
                                         ppg_host=self.settings.ppg_host, boundary=boundary,
                                         content_type=payload.content_type)
        except ValueError as e:
            raise CarrierError(f"cannot build the PAP request: {e}") from None
        headers = Headers({b"Content-Type": [request.content_type.encode("ascii")]})
        target = payload.reports if getattr(self.settings, "dlr", False) else None
        if target is not None:
            headers.setRawHeaders(b"X-Kannel-DLR-Url", [target.url(1).encode("ascii")])
            headers.setRawHeaders(b"X-Kannel-DLR-Mask", [str(self.settings.dlr_mask).encode()])
        response, body = yield http_request(self.agent, b"POST", ppg_url(self.settings), headers,
                                            body=request.body, limit=MAX_ANSWER, what="PPG")
        if response.code in (401, 403):
            raise CarrierError(f"PPG refused our credentials (HTTP {response.code})")
        try:
            result = parse_push_response(body)
        except PAPDecodeError as e:
            raise CarrierError(f"PPG answered HTTP {response.code} without a usable PAP "
                               f"response: {e}") from None
        if not result.accepted:
            raise CarrierError(f"PPG result {result.code}: {result.desc}")
        detail = f"PAP {result.code} {result.desc} push-id {result.push_id}"
        if target is None:
            return Sent(detail=detail)
        return Sent(detail=detail + "; awaiting a delivery report", report_parts=1)

    def stop(self) -> None:
        return None
