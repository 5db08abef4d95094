"""PAP push-message bodies and safe parsing of PPG responses."""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import pap
from gateway.notify.errors import PAPDecodeError

SAN = bytes(range(16)) + b"\r\n--x\x00\xff"


def test_push_request_bytes():
    """The whole request, written out: control entity, then the binary SAN entity."""
    req = pap.build_push_request(
        san=SAN, push_id="san-1@gw.example", number="+4912345678", ppg_host="ppg.example",
        boundary="omads-b1",
        deliver_before=dt.datetime(2030, 1, 2, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        qos=pap.QualityOfService(priority="high", delivery_method="unconfirmed"))
    assert req.content_type == 'multipart/related; boundary=omads-b1; type="application/xml"'
    control = (
        '<?xml version="1.0"?>\r\n'
        '<!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN"\n'
        '  "http://www.wapforum.org/DTD/pap_2.0.dtd">\r\n'
        "<pap>\r\n"
        '  <push-message push-id="san-1@gw.example" '
        'deliver-before-timestamp="2030-01-02T03:05:06Z">\r\n'
        '    <address address-value="WAPPUSH=+4912345678/TYPE=PLMN@ppg.example"/>\r\n'
        '    <quality-of-service priority="high" delivery-method="unconfirmed" network="GSM" '
        'network-required="true" bearer="SMS" bearer-required="true"/>\r\n'
        "  </push-message>\r\n"
        "</pap>").encode()
    assert req.body == (
        b"--omads-b1\r\nContent-Type: application/xml\r\n\r\n" + control + b"\r\n"
        b"--omads-b1\r\nContent-Type: application/vnd.syncml.ds.notification\r\n"
        b"X-Wap-Application-Id: x-wap-application:push.syncml\r\n\r\n" + SAN +
        b"\r\n--omads-b1--\r\n")


def test_stdlib_mime_parser_reads_it():
    """An independent MIME parser finds the two entities and their headers."""
    req = pap.build_push_request(san=b"\x01\x02abc", push_id="p", number="+1",
                                 ppg_host="h", boundary="bnd")
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        b"Content-Type: " + req.content_type.encode() + b"\r\n\r\n" + req.body)
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == ["application/xml",
                                                     "application/vnd.syncml.ds.notification"]
    assert parts[1]["X-Wap-Application-Id"] == "x-wap-application:push.syncml"
    assert parts[1].get_payload(decode=True) == b"\x01\x02abc"
    assert b'push-id="p"' in parts[0].get_payload(decode=True)


def test_attribute_values_are_escaped():
    doc = pap.control_document(push_id='a"<&>', address="WAPPUSH=+1/TYPE=PLMN@h")
    assert b'push-id="a&quot;&lt;&amp;&gt;"' in doc


@pytest.mark.parametrize("kw", [dict(boundary="bad boundary!"), dict(number="12ab"),
                                dict(ppg_host=""), dict(boundary="x", san=b"--x")])
def test_bad_arguments(kw):
    args = dict(san=b"s", push_id="p", number="+1", ppg_host="h", boundary="b") | kw
    with pytest.raises(ValueError):
        pap.build_push_request(**args)


def test_naive_deliver_before_rejected():
    with pytest.raises(ValueError):
        pap.control_document(push_id="p", address="a", deliver_before=dt.datetime(2030, 1, 1))


# Kannel 1.4.5 PPG's answer (peers/notify-obex.md §1.3), note the space in 'code ='.
KANNEL_RESPONSE = (
    b'<?xml version="1.0"?><!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 1.0//EN" '
    b'"http://www.wapforum.org/DTD/pap_1.0.dtd"><pap><push-response '
    b'push-id="san-push.syncml@syncgw.example" sender-name="vm; WAP/1.3 (Kannel/1.4.5)" '
    b'reply-time="2026-11-27T21:53:59Z" sender-address="/cgi-bin/wap-push.cgi">'
    b'<response-result code ="1001" desc="The request has been accepted for processing">'
    b"</response-result></push-response></pap>")


def test_kannel_response():
    res = pap.parse_push_response(KANNEL_RESPONSE)
    assert res == pap.PapResult(push_id="san-push.syncml@syncgw.example", code=1001,
                                desc="The request has been accepted for processing")
    assert res.accepted


def test_badmessage_response():
    res = pap.parse_push_response(
        b'<pap><badmessage-response code="2000" desc="Bad request" '
        b'bad-message-fragment="x"/></pap>')
    assert (res.kind, res.code, res.accepted) == ("badmessage-response", 2000, False)


def test_error_result():
    res = pap.parse_push_response(
        b'<pap><push-response push-id="p"><response-result code="2001" desc="Forbidden"/>'
        b"</push-response></pap>")
    assert res.code == 2001 and not res.accepted


@pytest.mark.parametrize("doc", [
    # billion laughs: an internal subset with entity declarations
    b'<?xml version="1.0"?><!DOCTYPE pap [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
    b'<pap><push-response push-id="&b;"><response-result code="1000"/></push-response></pap>',
    # external entity
    b'<!DOCTYPE pap [<!ENTITY x SYSTEM "file:///etc/passwd">]><pap>&x;</pap>',
    b"<pap><push-response push-id='p'/></pap>",          # no code
    b"<pap><other/></pap>",
    b"not xml",
    b'<pap><push-response push-id="p"><response-result code="x"/></push-response></pap>',
    b"<pap>&undefined;</pap>",
])
def test_unsafe_or_bad_documents(doc):
    with pytest.raises(PAPDecodeError):
        pap.parse_push_response(doc)


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_arbitrary_bytes_raise_only_decode_error(data):
    try:
        pap.parse_push_response(data)
    except PAPDecodeError:
        pass
