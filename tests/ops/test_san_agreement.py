"""With no SAN password, the gateway and omads-sync listen agree: an all-zero digest is
sent and accepted; any mismatch is refused with a reason that says what to set."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.client import san_check
from gateway.notifier.payload import build_payload
from gateway.ds.settings import DEFAULT_DATASTORES
from gateway.store.notifications import Notification, NotifyDevice


@dataclass
class _DS:
    local_uri: str = "contacts"
    remote_uri: str = "contacts"
    mode: int = 200


def san(password):
    nd = NotifyDevice(device_id="IMEI:1", server_password=password)
    return build_payload(Notification(id=7, device_id="IMEI:1", datastores=("contacts",)),
                         server_id="omads-gateway", datastores=DEFAULT_DATASTORES,
                         device=None, nd=nd).san


def check(data, password):
    return san_check.check(data, server_id="omads-gateway", password=password, nonce_b64="",
                           datastores=[_DS()])


def test_no_password_on_both_ends_is_accepted():
    data = san(None)
    assert data[:16] == bytes(16)
    assert isinstance(check(data, ""), san_check.Accepted)
    assert san("") == data          # an empty password is no password, on the gateway too


def test_a_password_on_one_end_only_is_refused_with_what_to_set():
    got = check(san(None), "secret")
    assert isinstance(got, san_check.Refused) and "notify-setup" in got.reason
    assert "no server password for this device" in got.reason
    got = check(san("secret"), "")
    assert isinstance(got, san_check.Refused) and "--server-password" in got.reason


def test_the_same_password_is_accepted_and_another_is_a_bad_digest():
    assert isinstance(check(san("secret"), "secret"), san_check.Accepted)
    assert check(san("secret"), "other").reason == "bad digest"
