"""The message model over both codecs: every capture maps to the model and back."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.syncml import codec, model as m
from gateway.syncml.codes import AlertCode, StatusCode
from gateway.syncml.devinf import DevInf
from gateway.syncml.errors import DecodeError, ModelDecodeError
from gateway.syncml.metinf import Anchor
from tests.syncml import strategies
from tests.syncml.captures import FIXTURES, all_captures, ident, textual as _textual, wbxml_captures


def _type_of(path) -> str:
    return codec.WBXML if path.suffix == ".wbxml" else codec.XML


def _messages():
    return [p for p in all_captures()]


def test_the_captures_are_there():
    assert len(wbxml_captures()) >= 80
    assert len(all_captures()) >= 150


@pytest.mark.parametrize("path", _messages(), ids=ident)
def test_capture_maps_to_model_and_round_trips(path):
    data = path.read_bytes()
    msg = codec.decode_message(data, _type_of(path))
    assert msg.header.ver_dtd in ("1.0", "1.1", "1.2")
    assert msg.header.msg_id
    for ctype in (codec.XML, codec.WBXML):
        again = codec.decode_message(codec.encode_message(msg, ctype), ctype)
        assert _textual(again) == _textual(msg), ctype


def test_syncevolution_first_message_contents():
    path = FIXTURES / "syncevolution/sessions/wbxml-md5-slow/01-client.wbxml"
    msg = codec.decode_message(path.read_bytes(), codec.WBXML)
    hdr = msg.header
    assert (hdr.ver_dtd, hdr.ver_proto, hdr.msg_id) == ("1.2", "SyncML/1.2", "1")
    assert hdr.source.loc_uri == "sc-cap-wbxml-md5" and hdr.source.loc_name == "alice"
    assert hdr.cred.meta.type == "syncml:auth-md5"
    assert hdr.meta.max_msg_size == 150000
    put, get, alert = msg.commands
    assert isinstance(put, m.Put) and isinstance(get, m.Get) and isinstance(alert, m.Alert)
    devinf = put.items[0].data
    assert isinstance(devinf, DevInf)
    assert devinf.dev_id == "sc-cap-wbxml-md5" and devinf.support_large_objs
    store = devinf.datastores[0]
    assert store.source_ref == "./addressbook"
    assert 1 in store.sync_cap and 7 in store.sync_cap
    assert any(c.ct_type == "text/vcard" for c in store.ctcaps)
    assert AlertCode(alert.data) is AlertCode.SLOW_SYNC
    assert alert.items[0].target.loc_uri == "contacts"
    assert isinstance(alert.items[0].meta.anchor, Anchor) and alert.items[0].meta.anchor.next
    assert msg.final


def test_vcard_payload_is_exact_in_both_encodings():
    base = FIXTURES / "syncevolution/sessions"
    x = codec.decode_message((base / "xml-md5-slow/02-client.xml").read_bytes(), codec.XML)
    w = codec.decode_message((base / "wbxml-md5-slow/02-client.wbxml").read_bytes(), codec.WBXML)
    for msg in (x, w):
        sync = next(c for c in msg.commands if isinstance(c, m.Sync))
        add = next(c for c in sync.commands if isinstance(c, m.Add))
        data = add.items[0].data
        text = data.decode() if isinstance(data, bytes) else data
        assert text.startswith("BEGIN:VCARD\r\n") and text.endswith("END:VCARD\r\n")


def test_status_anchor_and_codes():
    path = FIXTURES / "syncevolution/sessions/xml-md5-slow/01-server.xml"
    msg = codec.decode_message(path.read_bytes(), codec.XML)
    statuses = [c for c in msg.commands if isinstance(c, m.Status)]
    hdr_status = statuses[0]
    assert hdr_status.cmd == "SyncHdr" and hdr_status.cmd_ref == "0"
    assert StatusCode(hdr_status.data) is StatusCode.AUTH_ACCEPTED
    assert hdr_status.chal.meta.next_nonce
    alert_status = next(s for s in statuses if s.cmd == "Alert")
    assert isinstance(alert_status.items[0].data, Anchor)


def test_not_a_syncml_message():
    with pytest.raises(ModelDecodeError):
        codec.decode_message(b"<Foo><Bar/></Foo>", codec.XML)
    with pytest.raises(ModelDecodeError):
        codec.decode_message(b"<SyncML><SyncBody/></SyncML>", codec.XML)
    with pytest.raises(ModelDecodeError):
        codec.decode_message(b"<SyncML><SyncHdr><MsgID>x</MsgID></SyncHdr><SyncBody>"
                             b"<Status><CmdID>1</CmdID><Data>OK</Data></Status></SyncBody></SyncML>",
                             codec.XML)


def test_unknown_elements_are_kept():
    xml = (b"<SyncML><SyncHdr><VerDTD>1.2</VerDTD><MsgID>1</MsgID><XFoo>bar</XFoo></SyncHdr>"
           b"<SyncBody><Alert><CmdID>1</CmdID><Data>200</Data><XBaz/></Alert><Final/></SyncBody></SyncML>")
    msg = codec.decode_message(xml, codec.XML)
    assert [e.tag for e in msg.header.extra] == ["XFoo"]
    assert [e.tag for e in msg.commands[0].extra] == ["XBaz"]
    again = codec.decode_message(codec.encode_message(msg, codec.XML), codec.XML)
    assert again == msg


def test_media_types():
    assert codec.media_type("application/vnd.syncml+wbxml; charset=UTF-8") == codec.WBXML
    assert codec.media_type("Application/VND.SyncML+XML") == codec.XML
    with pytest.raises(DecodeError.__mro__[1]) as e:   # RemoteProtocolError
        codec.media_type("text/html")
    assert e.value.error_status_hint == 415


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.messages)
def test_model_xml_model_round_trip(msg):
    assert codec.decode_message(codec.encode_message(msg, codec.XML), codec.XML) == msg


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.messages)
def test_model_wbxml_model_round_trip(msg):
    assert codec.decode_message(codec.encode_message(msg, codec.WBXML), codec.WBXML) == msg


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.devinfs)
def test_devinf_round_trip(devinf):
    for ctype in (codec.DEVINF_XML, codec.DEVINF_WBXML):
        assert codec.decode_devinf(codec.encode_devinf(devinf, ctype), ctype) == devinf


_SEEDS = [p.read_bytes() for p in all_captures()[::9]]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                         min_size=1, max_size=8))
def test_mutated_messages_raise_only_decode_error(seed, flips):
    data = bytearray(seed)
    for pos, val in flips:
        data[pos % len(data)] = val
    for ctype in (codec.XML, codec.WBXML):
        try:
            codec.decode_message(bytes(data), ctype)
        except DecodeError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_decode_error(data):
    for ctype in (codec.XML, codec.WBXML):
        try:
            codec.decode_message(data, ctype)
        except DecodeError:
            pass
