"""What a notification puts on the wire: the SAN for one device and its WAP Push PDU.

The DS 1.2 binary package 0 (``application/vnd.syncml.ds.notification``), or for a
device whose DevInf is older than 1.2 the SyncML 1.1 message form in WBXML
(``application/vnd.syncml+wbxml``, with an auth-md5 Cred when the device has a server
password), chosen by the device's ``form`` or else ``notify.san.san_form_for`` on its
stored DevInf (omads-protocol.md §6.1, §6.2). Every carrier labels the SAN with
``Payload.content_type``: the WSP push header (SMS, UDP), the PAP content entity, the SIP
Content-Type. Each datastore becomes one entry with sync type 206
(two-way, server alerted), the SAN number of its preferred content type and its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.ds.settings import DatastoreSettings
from gateway.notify import san as sanlib
from gateway.notify import san_legacy
from gateway.notify.dlr import ReportTarget
from gateway.notify.tables import san_content_code
from gateway.notify.wsp import SAN_CONTENT_TYPE, SYNCML_APP_ID, WspHeader, WspPush, encode_push
from gateway.store.base import Device
from gateway.store.notifications import Notification, NotifyDevice
from gateway.syncml.codec import decode_devinf, encode_message

LEGACY_CONTENT_TYPE = "application/vnd.syncml+wbxml"
TWO_WAY_BY_SERVER = 206


class PayloadError(ValueError):
    """The notification cannot be built (e.g. it names an unknown datastore)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Payload:
    san: bytes            # the SAN (package 0) bytes: SIP body, PAP content entity
    content_type: str     # its media type
    push: bytes           # the connectionless WSP Push PDU carrying it (SMS, UDP 2948)
    form: str             # "1.2" or "1.1"
    reports: ReportTarget | None = None   # where SMS delivery reports go (None: ask none)


def resolve_datastores(names: tuple[str, ...], datastores: tuple[DatastoreSettings, ...]
                       ) -> tuple[DatastoreSettings, ...]:
    """The configured datastores a request names (by name or alias); ``()``: all."""
    if not names:
        return datastores
    out: list[DatastoreSettings] = []
    for name in names:
        found = next((ds for ds in datastores if ds.matches(name)), None)
        if found is None:
            raise PayloadError(f"unknown datastore {name!r}")
        if found not in out:
            out.append(found)
    return tuple(out)


def san_form(device: Device | None, nd: NotifyDevice | None) -> str:
    """``"1.2"`` or ``"1.1"``: the configured form, else the device's DevInf decides."""
    if nd is not None and nd.form != "auto":
        return nd.form
    if device is None or not device.devinf:
        return "1.2"
    try:
        devinf = decode_devinf(device.devinf, "application/vnd.syncml+xml")
    except Exception:   # a DevInf we cannot read: use the DS 1.2 form
        return "1.2"
    return sanlib.san_form_for(devinf)


def encode_form(san: sanlib.SAN, form: str, *, password: str | None,
                nonce: bytes = b"") -> tuple[bytes, str]:
    """The package 0 bytes of ``san`` in ``form`` and their media type.

    1.2: the binary SAN, its digest made with ``password`` (all-zero without one).
    1.1: the SyncML 1.1 message in WBXML; with a ``password`` its SyncHdr carries an
    auth-md5 Cred over ``server-id:password`` and ``nonce`` (omads-protocol.md §6.2, §3.5).
    """
    if form == "1.1":
        cred = (None if password is None
                else san_legacy.server_cred(san.server_id, password, nonce))
        msg = sanlib.legacy_san_message(san, cred=cred)
        return encode_message(msg, LEGACY_CONTENT_TYPE), LEGACY_CONTENT_TYPE
    return sanlib.encode_san(san, password=password, nonce=nonce), SAN_CONTENT_TYPE


def device_san(server_id: str, *, device: Device | None, nd: NotifyDevice | None,
               password: str | None, session_id: int,
               syncs: tuple[sanlib.SANSync, ...] = ()) -> tuple[bytes, str]:
    """A SAN for one device outside the queue (e.g. an OBEX dial-out PUT): the form its
    settings or DevInf ask for (``san_form``), and the media type to label it with."""
    san = sanlib.SAN(server_id=server_id, session_id=session_id, syncs=syncs)
    return encode_form(san, san_form(device, nd), password=password,
                       nonce=nd.nonce if nd else b"")


def build_payload(notification: Notification, *, server_id: str,
                  datastores: tuple[DatastoreSettings, ...], device: Device | None,
                  nd: NotifyDevice | None, ui_mode: int = 0) -> Payload:
    """The SAN and its push PDU for one notification (session id: the id's low 16 bits)."""
    chosen = resolve_datastores(notification.datastores, datastores)
    syncs = tuple(
        sanlib.SANSync(sync_type=TWO_WAY_BY_SERVER,
                       content_type=san_content_code(ds.content_types[0][0]
                                                     if ds.content_types else None),
                       server_uri=ds.name)
        for ds in chosen)
    san = sanlib.SAN(server_id=server_id, ui_mode=sanlib.UIMode(ui_mode),
                     initiator=sanlib.Initiator.SERVER,
                     session_id=notification.id & 0xFFFF, syncs=syncs)
    form = san_form(device, nd)
    body, ctype = encode_form(san, form, password=(nd.server_password or None) if nd else None,
                              nonce=nd.nonce if nd else b"")
    push = encode_push(WspPush(tid=notification.id & 0xFF, content_type=ctype, body=body,
                               headers=(WspHeader(name="X-Wap-Application-Id",
                                                  value=SYNCML_APP_ID),)))
    return Payload(san=body, content_type=ctype, push=push, form=form)
