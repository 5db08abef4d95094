"""An Item's Data with several child elements (a Filter's Field lists DevInf <Property>
elements side by side) keeps every child through decoding and encoding."""

from __future__ import annotations

import pytest

from gateway.ds.fieldfilter import field_names
from gateway.syncml import codec
from gateway.syncml.tree import NS_DEVINF

ALERT_WITH_FIELD = b"""<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>
<VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>
<Target><LocURI>http://gw/sync</LocURI></Target><Source><LocURI>dev</LocURI></Source></SyncHdr>
<SyncBody><Alert><CmdID>1</CmdID><Data>200</Data><Item><Target><LocURI>contacts</LocURI>
<Filter><Meta><Type xmlns="syncml:metinf">text/vcard</Type></Meta><Field><Item>
<Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta><Data>
<Property xmlns="syncml:devinf"><PropName>FN</PropName></Property>
<Property xmlns="syncml:devinf"><PropName>TEL</PropName></Property>
<Property xmlns="syncml:devinf"><PropName>EMAIL</PropName></Property>
</Data></Item></Field></Filter></Target><Source><LocURI>./c</LocURI></Source></Item></Alert>
<Final/></SyncBody></SyncML>"""


def _field_data(msg):
    return msg.commands[0].items[0].target.filter.field.data


def test_every_property_of_a_field_is_kept():
    data = _field_data(codec.decode_message(ALERT_WITH_FIELD, codec.XML))
    assert [c.tag for c in data.children] == ["Property"] * 3
    assert all(c.ns == NS_DEVINF for c in data.children)
    assert field_names(data) == ("FN", "TEL", "EMAIL")


@pytest.mark.parametrize("encoding", [codec.XML, codec.WBXML])
def test_several_children_survive_a_round_trip(encoding):
    msg = codec.decode_message(ALERT_WITH_FIELD, codec.XML)
    again = codec.decode_message(codec.encode_message(msg, encoding), encoding)
    assert field_names(_field_data(again)) == ("FN", "TEL", "EMAIL")


def test_a_single_child_is_still_the_child_itself():
    one = ALERT_WITH_FIELD.replace(
        b'<Property xmlns="syncml:devinf"><PropName>TEL</PropName></Property>', b"").replace(
        b'<Property xmlns="syncml:devinf"><PropName>EMAIL</PropName></Property>', b"")
    data = _field_data(codec.decode_message(one, codec.XML))
    assert data.tag == "Property" and field_names(data) == ("FN",)
