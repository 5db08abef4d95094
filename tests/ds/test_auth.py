"""Authentication: basic/md5, 401/407 + Chal, nonce rotation, throttling."""

import base64

from gateway.syncml.metinf import Meta
from gateway.syncml.model import Alert, Cred, Item, Location, Status
from tests.ds.simclient import SimClient


def hdr_status(reply):
    return next(c for c in reply.commands if isinstance(c, Status) and c.cmd == "SyncHdr")


def alert_cmd():
    return Alert(data=201, items=(Item(target=Location(loc_uri="contacts"),
                                       source=Location(loc_uri="./contacts")),))


def test_basic_success_212_with_md5_challenge(server, store):
    c = SimClient(server, auth="basic")
    reply = c.send([alert_cmd()], with_cred=True)
    st = hdr_status(reply)
    assert st.data == 212
    assert st.chal.meta.type == "syncml:auth-md5" and st.chal.meta.format == "b64"
    with store.transaction() as tx:
        assert tx.get_device("sim-device").nonce == base64.b64decode(st.chal.meta.next_nonce)


def test_md5_first_login_uses_empty_nonce_and_nonce_rotates(server, store):
    c = SimClient(server, auth="md5")
    assert c.sync(201)[0] == 201
    first = c.nonce
    assert first
    assert c.sync(200)[0] == 200           # second session uses the nonce we were given
    assert c.nonce != first
    with store.transaction() as tx:
        assert tx.get_device("sim-device").nonce == c.nonce


def test_wrong_password_401_and_everything_refused(server, store):
    c = SimClient(server, password="wrong")
    reply = c.send([alert_cmd()], with_cred=True)
    st = hdr_status(reply)
    assert st.data == 401 and st.chal is not None
    assert [s.data for s in reply.commands if isinstance(s, Status) and s.cmd == "Alert"] == [401]
    assert not any(isinstance(x, Alert) for x in reply.commands)
    # the session stays; a retry in it with good credentials works
    c.password = "secret"
    reply = c.send([alert_cmd()], with_cred=True)
    assert hdr_status(reply).data == 212
    assert any(isinstance(x, Alert) and x.data == 201 for x in reply.commands)


def test_missing_credentials_407(server):
    c = SimClient(server)
    reply = c.send([alert_cmd()], with_cred=False)
    assert hdr_status(reply).data == 407
    assert hdr_status(reply).chal.meta.next_nonce


def test_cred_inside_alert_accepted(server):
    c = SimClient(server, auth="basic")
    a = alert_cmd()
    from dataclasses import replace
    a = replace(a, cred=c.cred())
    reply = c.send([a], with_cred=False)
    assert hdr_status(reply).data == 212


def test_unknown_auth_type_406(server):
    c = SimClient(server)
    hdr = c.header(False)
    from dataclasses import replace
    hdr = replace(hdr, cred=Cred(meta=Meta(type="syncml:auth-foo"), data="x"))
    reply = c.send([alert_cmd()], raw_header=hdr)
    assert hdr_status(reply).data == 406


def test_anonymous_datastore(make_server):
    from gateway.ds.settings import DEFAULT_DATASTORES
    from dataclasses import replace
    stores = tuple(replace(d, allow_anonymous=d.name == "notes") for d in DEFAULT_DATASTORES)
    server = make_server(datastores=stores)
    c = SimClient(server, auth="none", server_ds="notes", ds_uri="./notes", user="")
    assert c.sync(201)[0] == 201
    c2 = SimClient(server, auth="none", device_id="other")
    assert c2.sync(201)[0] is None
    assert hdr_status(c2.log[-1].reply).data == 407


def test_binary_md5_digest_accepted(server):
    import hashlib
    from gateway.store.accounts import make_secret
    c = SimClient(server)
    hdr = c.header(False)
    digest = hashlib.md5(make_secret("alice", "secret").encode() + b":").digest()
    from dataclasses import replace
    hdr = replace(hdr, cred=Cred(meta=Meta(type="syncml:auth-md5"), data=digest))
    from gateway.syncml import codec
    c.encoding = codec.WBXML
    reply = c.send([alert_cmd()], raw_header=hdr)
    assert hdr_status(reply).data == 212


def test_throttling_after_repeated_failures(make_server):
    server = make_server(max_failed_logins=3, failed_login_window=100.0)
    c = SimClient(server, password="wrong")
    for _ in range(3):
        c.session = None
        assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401
    # now even the right password is refused for this device ...
    c.password = "secret"
    c.session = None
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 401
    # ... and for another device from the same address
    d = SimClient(server, device_id="dev2")
    assert hdr_status(d.send([alert_cmd()], with_cred=True)).data == 401
    # after the window it works again
    c.now += 200
    c.session = None
    assert hdr_status(c.send([alert_cmd()], with_cred=True)).data == 212
