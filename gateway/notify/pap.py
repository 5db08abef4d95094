"""PAP (WAP-247 Push Access Protocol, 2.0 DTD) documents for a Push Proxy Gateway.

``build_push_request`` makes the ``multipart/related`` body that carries the PAP
push-message (control entity) and the SAN (content entity, ``X-Wap-Application-Id:
x-wap-application:push.syncml``, labelled with the SAN form's media type);
``parse_push_response`` reads the PPG's answer with
a parser that refuses entity declarations and internal DTD subsets (omads-protocol.md §7.3).

Carrier note: send only the Content-Type returned here (plus auth); Kannel's PPG copies
any other request header, e.g. User-Agent or Accept, into the pushed WSP headers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from xml.parsers import expat
from xml.sax.saxutils import escape

from gateway.notify.errors import PAPDecodeError
from gateway.notify.wsp import SAN_CONTENT_TYPE, SYNCML_APP_ID

PAP_DOCTYPE = ('<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN"\n'
               '  "http://www.wapforum.org/DTD/pap_2.0.dtd">')
# WAP-247 §9.3 QoS attribute values.
PRIORITIES = ("high", "medium", "low")
DELIVERY_METHODS = ("confirmed", "preferconfirmed", "unconfirmed", "notspecified")
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,./:=?-]{1,70}")
_PHONE = re.compile(r"\+?[0-9]{1,20}")


@dataclass(frozen=True, kw_only=True, slots=True)
class QualityOfService:
    priority: str | None = None
    delivery_method: str | None = None
    network: str | None = "GSM"
    network_required: bool = True
    bearer: str | None = "SMS"
    bearer_required: bool = True

    def __post_init__(self) -> None:
        if self.priority is not None and self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}")
        if self.delivery_method is not None and self.delivery_method not in DELIVERY_METHODS:
            raise ValueError(f"delivery-method must be one of {DELIVERY_METHODS}")


@dataclass(frozen=True, kw_only=True, slots=True)
class PushRequest:
    """What to POST: the Content-Type header value and the body bytes."""

    content_type: str
    body: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class PapResult:
    push_id: str
    code: int
    desc: str = ""
    kind: str = "push-response"       # or "badmessage-response"

    @property
    def accepted(self) -> bool:
        """1xxx codes: accepted (1000 OK, 1001 accepted for processing)."""
        return 1000 <= self.code < 2000


def quoteattr(value: str) -> str:
    """A double-quoted XML attribute value."""
    return '"' + escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}) + '"'


def wappush_address(number: str, ppg_host: str) -> str:
    """``WAPPUSH=+<number>/TYPE=PLMN@<ppg host>`` (WAP-249 PPG service, address form)."""
    if not _PHONE.fullmatch(number) or not ppg_host or "/" in ppg_host or '"' in ppg_host:
        raise ValueError("bad PLMN number or PPG host")
    return f"WAPPUSH={number}/TYPE=PLMN@{ppg_host}"


def _timestamp(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("deliver-before needs an aware datetime")
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def control_document(*, push_id: str, address: str, deliver_before: dt.datetime | None = None,
                     qos: QualityOfService | None = None) -> bytes:
    """The PAP 2.0 push-message control entity."""
    attrs = f"push-id={quoteattr(push_id)}"
    if deliver_before is not None:
        attrs += f' deliver-before-timestamp="{_timestamp(deliver_before)}"'
    lines = ['<?xml version="1.0"?>', PAP_DOCTYPE, "<pap>", f"  <push-message {attrs}>",
             f"    <address address-value={quoteattr(address)}/>"]
    if qos is not None:
        q = []
        if qos.priority:
            q.append(f'priority="{qos.priority}"')
        if qos.delivery_method:
            q.append(f'delivery-method="{qos.delivery_method}"')
        if qos.network:
            q.append(f"network={quoteattr(qos.network)} "
                     f'network-required="{str(qos.network_required).lower()}"')
        if qos.bearer:
            q.append(f"bearer={quoteattr(qos.bearer)} "
                     f'bearer-required="{str(qos.bearer_required).lower()}"')
        lines.append(f"    <quality-of-service {' '.join(q)}/>")
    lines += ["  </push-message>", "</pap>"]
    return "\r\n".join(lines).encode("utf-8")


def build_push_request(*, san: bytes, push_id: str, number: str, ppg_host: str,
                       boundary: str, deliver_before: dt.datetime | None = None,
                       qos: QualityOfService | None = None,
                       content_type: str = SAN_CONTENT_TYPE) -> PushRequest:
    """The multipart/related PAP request that pushes ``san`` to ``number``;
    ``content_type`` labels it (the SyncML type for the legacy 1.1 form, §6.2)."""
    if not _BOUNDARY.fullmatch(boundary) or boundary.endswith(" "):
        raise ValueError("bad multipart boundary")
    if not re.fullmatch(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+", content_type):
        raise ValueError(f"bad content type {content_type!r}")
    delim = b"--" + boundary.encode("ascii")
    if delim in san:
        raise ValueError("the boundary occurs in the SAN bytes; pick another")
    control = control_document(push_id=push_id, address=wappush_address(number, ppg_host),
                               deliver_before=deliver_before, qos=qos)
    body = b"\r\n".join([
        delim,
        b"Content-Type: application/xml",
        b"",
        control,
        delim,
        b"Content-Type: " + content_type.encode("ascii"),
        b"X-Wap-Application-Id: " + SYNCML_APP_ID.encode("ascii"),
        b"",
        san,
        delim + b"--",
        b"",
    ])
    return PushRequest(
        content_type=f'multipart/related; boundary={boundary}; type="application/xml"',
        body=body)


# -- the PPG's answer ---------------------------------------------------------------------


class _Refused(Exception):
    pass


def _refuse(*_args: object) -> None:
    raise _Refused("entity declarations are not accepted")


def parse_push_response(data: bytes, *, max_size: int = 65536) -> PapResult:
    """The push-id, code and desc of a ``push-response`` or ``badmessage-response``."""
    if len(data) > max_size:
        raise PAPDecodeError(f"PAP response over {max_size} bytes", offset=max_size)
    found: dict[str, str] = {}
    stack: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        stack.append(name)
        if len(stack) > 16:
            raise _Refused("too deeply nested")
        if name in ("push-response", "badmessage-response"):
            found["kind"] = name
            found.setdefault("push-id", attrs.get("push-id", ""))
            if name == "badmessage-response":
                found["code"] = attrs.get("code", "")
                found["desc"] = attrs.get("desc", "")
        elif name == "response-result" and "code" not in found:
            found["code"] = attrs.get("code", "")
            found["desc"] = attrs.get("desc", "")

    def doctype(_name: str, _sys: str | None, _pub: str | None, internal: int) -> None:
        if internal:
            raise _Refused("internal DTD subsets are not accepted")

    p = expat.ParserCreate()
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartElementHandler = start
    p.EndElementHandler = lambda name: stack.pop()
    p.StartDoctypeDeclHandler = doctype
    p.EntityDeclHandler = _refuse
    p.UnparsedEntityDeclHandler = _refuse
    p.ExternalEntityRefHandler = lambda *a: _refuse()
    try:
        p.Parse(data, True)
    except _Refused as err:
        raise PAPDecodeError(str(err), offset=p.CurrentByteIndex) from err
    except expat.ExpatError as err:
        raise PAPDecodeError(f"not XML: {err}", offset=getattr(err, "offset", None)) from err
    if "kind" not in found:
        raise PAPDecodeError("no push-response or badmessage-response element")
    code = found.get("code", "")
    if not code.isdigit():
        raise PAPDecodeError(f"bad PAP result code {code!r}")
    return PapResult(push_id=found["push-id"], code=int(code), desc=found.get("desc", ""),
                     kind=found["kind"])
