"""The SyncML 1.1 SAN through Kannel 1.4: pushed by PAP to wapbox's PPG and sent by
smsbox ``sendsms``, both ending at bearerbox's fake SMSC. The WSP push Kannel sends must
be labelled ``application/vnd.syncml+wbxml`` (not the DS 1.2 notification type) and carry
the legacy SAN byte for byte."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor

from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.notify import san_legacy, wsp
from gateway.notify.udh import Reassembler, decode_udh
from gateway.store.notifications import Notification, NotifyDevice
from gateway.transport.notify.carriers.kannel import KannelCarrier
from gateway.transport.notify.carriers.pap import PAPCarrier
from gateway.notifier.payload import LEGACY_CONTENT_TYPE, build_payload
from gateway.config.notify import PAPSettings
from tests.notify_service.helpers import NONCE, PASSWORD, SERVER_ID
from tests.notify_service.test_kannel import kannel, kannel_settings  # noqa: F401 (fixture)

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def legacy_payload(nid: int):
    nd = NotifyDevice(device_id="IMEI:1", server_password=PASSWORD, nonce=NONCE, form="1.1")
    return build_payload(Notification(id=nid, device_id="IMEI:1", datastores=("contacts",)),
                         server_id=SERVER_ID, datastores=DEFAULT_DATASTORES, device=None, nd=nd)


def check_legacy(body: bytes, session_id: int) -> None:
    got = san_legacy.decode_legacy_san(body, LEGACY_CONTENT_TYPE)
    assert got.san.server_id == SERVER_ID and got.san.session_id == session_id
    assert [s.server_uri for s in got.san.syncs] == ["contacts"]
    assert san_legacy.verify_cred(got.cred, server_id=SERVER_ID, password=PASSWORD,
                                  nonce=NONCE)


def joined(parts) -> bytes:
    joiner, whole = Reassembler(), None
    for _, _, udh, data in parts:
        header, _ = decode_udh(udh)
        assert header.ports == (2948, 9200)
        whole = joiner.add(sender="k", udh=header, data=data, now=0.0) or whole
    assert whole is not None
    return whole.data


def wait_push(kannel, before: int) -> bytes:   # noqa: F811
    """The push PDU of the SMS that arrived after ``before``: one, or concatenated parts."""
    first = kannel.wait_messages(before + 1)[before]
    header, _ = decode_udh(first[2])
    total = header.concat.total if header.concat else 1
    return joined(kannel.wait_messages(before + total)[before:before + total])


@pytest_twisted.inlineCallbacks
def test_pap_legacy_san_is_pushed_with_the_syncml_type(kannel):   # noqa: F811
    before = len(kannel.messages())
    p = legacy_payload(61)
    assert p.form == "1.1" and p.content_type == LEGACY_CONTENT_TYPE
    settings = PAPSettings(url=f"http://127.0.0.1:{kannel.ports['ppg']}/cgi-bin/wap-push.cgi",
                           username="foo", password="bar", ppg_host="ppg.example")
    sent = yield PAPCarrier(settings, reactor=reactor).send("+4912345678", p)
    assert sent.detail.startswith("PAP 1001")
    push = wsp.decode_push(wait_push(kannel, before))
    assert push.content_type == LEGACY_CONTENT_TYPE
    assert push.content_type != wsp.SAN_CONTENT_TYPE
    assert push.application_id == wsp.SYNCML_APP_ID
    assert push.body == p.san
    check_legacy(push.body, 61)


@pytest_twisted.inlineCallbacks
def test_sendsms_legacy_push_arrives_as_built(kannel):   # noqa: F811
    before = len(kannel.messages())
    p = legacy_payload(62)
    yield KannelCarrier(kannel_settings(kannel, sender="4321"),
                        reactor=reactor).send("+4912345678", p)
    data = wait_push(kannel, before)
    assert data == p.push
    push = wsp.decode_push(data)
    assert push.content_type == LEGACY_CONTENT_TYPE and push.body == p.san
    check_legacy(push.body, 62)
