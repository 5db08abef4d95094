"""What a notification puts on the wire: DS 1.2 SAN or the SyncML 1.1 form by DevInf."""

from __future__ import annotations

import pytest

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import wsp
from gateway.store.base import Device
from gateway.store.notifications import Notification, NotifyDevice
from gateway.syncml.codec import decode_message, encode_devinf
from gateway.syncml.devinf import DevInf
from gateway.notifier.payload import LEGACY_CONTENT_TYPE, PayloadError, build_payload, san_form
from tests.notify_service.helpers import SERVER_ID, check_push, check_san, device


def _devinf(ver: str) -> bytes:
    return encode_devinf(DevInf(ver_dtd=ver, dev_id="IMEI:1", dev_typ="phone"),
                         "application/vnd.syncml+xml")


def test_ds12_form_with_digest_and_downgraded_content_types():
    n = Notification(id=0x12345, device_id="IMEI:1", datastores=("addressbook", "calendar"))
    p = build_payload(n, server_id=SERVER_ID, datastores=DEFAULT_DATASTORES,
                      device=Device(device_id="IMEI:1", devinf=_devinf("1.2")), nd=device())
    assert p.form == "1.2" and p.content_type == wsp.SAN_CONTENT_TYPE
    san = check_san(p.san, datastores=("contacts", "calendar"), session_id=0x2345)
    assert [s.content_type for s in san.syncs] == [0x07, 0x06]   # text/x-vcard, x-vcalendar
    assert check_push(p.push) == p.san and p.push[0] == 0x45      # TID: low byte of the id


def test_without_password_the_digest_is_zero():
    n = Notification(id=1, device_id="d")
    p = build_payload(n, server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=None,
                      nd=NotifyDevice(device_id="d"))
    assert p.san[:16] == bytes(16)


def test_legacy_form_for_a_devinf_11_device():
    dev = Device(device_id="IMEI:1", devinf=_devinf("1.1"))
    assert san_form(dev, None) == "1.1"
    assert san_form(dev, device(form="1.2")) == "1.2"
    assert san_form(Device(device_id="x", devinf=b"<garbage"), None) == "1.2"
    n = Notification(id=9, device_id="IMEI:1", datastores=("contacts", "notes"))
    p = build_payload(n, server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=dev,
                      nd=device())
    assert p.form == "1.1" and p.content_type == LEGACY_CONTENT_TYPE
    msg = decode_message(p.san, LEGACY_CONTENT_TYPE)
    assert msg.header.ver_dtd == "1.1" and msg.header.source.loc_uri == SERVER_ID
    assert msg.header.session_id == "9"
    [alert] = msg.body.commands
    assert alert.data == 206
    assert [i.source.loc_uri for i in alert.items] == ["contacts", "notes"]
    push = wsp.decode_push(p.push)
    assert push.content_type == LEGACY_CONTENT_TYPE and push.body == p.san
    assert push.application_id == wsp.SYNCML_APP_ID


def test_unknown_datastore_is_refused():
    with pytest.raises(PayloadError, match="unknown datastore 'nope'"):
        build_payload(Notification(id=1, device_id="d", datastores=("nope",)),
                      server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=None, nd=None)
