"""Replay the client side of real SyncEvolution sessions (tests/fixtures/syncevolution)
through SyncServer.handle, byte for byte, and check our answers."""


import pytest

from gateway.ds.server.handler import Request
from gateway.syncml import codec
from gateway.syncml.model import Alert, Status, Sync
from tests.ds.replay import SESSIONS, captured_nonces, client_messages, prime_nonce

CHAINS = {
    "basic": ["basic-slow", "basic-twoway-changes"],
    "md5": ["md5-slow", "md5-twoway-changes", "md5-one-way-from-client",
            "md5-one-way-from-server", "md5-refresh-from-client", "md5-refresh-from-server"],
    "md5-40": ["md5-slow40", "md5-refresh-from-server40"],
}


@pytest.mark.parametrize("enc", ["xml", "wbxml"])
@pytest.mark.parametrize("chain", list(CHAINS))
def test_replay_syncevolution_sessions(server, store, enc, chain):
    ctype = codec.WBXML if enc == "wbxml" else codec.XML
    nonces = captured_nonces(enc)
    for name in CHAINS[chain]:
        session_dir = SESSIONS / f"{enc}-{name}"
        key = None
        for n, path in enumerate(client_messages(session_dir)):
            body = path.read_bytes()
            msg = codec.decode_message(body, ctype)
            if n == 0:
                prime_nonce(store, msg, nonces)
            resp = server.handle(Request(body=body, content_type=ctype, session=key,
                                         base_url="http://127.0.0.1:9/sync", peer="127.0.0.1",
                                         now=2_000_000.0 + n))
            assert resp.content_type == ctype
            reply = codec.decode_message(resp.body, ctype)
            limit = msg.header.meta.max_msg_size
            assert len(resp.body) <= limit
            statuses = [c for c in reply.commands if isinstance(c, Status)]
            hdr = statuses[0]
            assert hdr.cmd == "SyncHdr" and hdr.msg_ref == msg.header.msg_id
            assert hdr.data == (212 if n == 0 else 200), (name, n)
            # every command of the client's message got a status
            wanted = _commands_needing_status(msg)
            answered = {(s.cmd_ref, s.cmd) for s in statuses if s.msg_ref == msg.header.msg_id}
            if reply.final or n == 0:
                assert wanted <= answered, (name, n, wanted - answered)
            for s in statuses:
                if s.cmd in ("Add", "Replace", "Delete", "Sync", "Map", "Put", "Get"):
                    assert 200 <= s.data < 300, (name, n, s)
            if n == 0:
                alert = next(c for c in reply.commands if isinstance(c, Alert))
                assert alert.items[0].target.loc_uri == "./addressbook"
            key = resp.session or key
        with store.transaction() as tx:
            items = list(tx.list_items("alice", "contacts"))
        assert items, name


def _commands_needing_status(msg):
    out = set()
    for c in msg.commands:
        if isinstance(c, Status):
            continue
        out.add((c.cmd_id, type(c).__name__))
        if isinstance(c, Sync):
            out |= {(k.cmd_id, type(k).__name__) for k in c.commands}
    return out


def test_twoway_changes_capture_applies_replace_delete_add(server, store):
    ctype = codec.XML
    nonces = captured_nonces("xml")
    results = {}
    for name in ("md5-slow", "md5-twoway-changes"):
        key = None
        for n, path in enumerate(client_messages(SESSIONS / f"xml-{name}")):
            body = path.read_bytes()
            msg = codec.decode_message(body, ctype)
            if n == 0:
                prime_nonce(store, msg, nonces)
            resp = server.handle(Request(body=body, content_type=ctype, session=key,
                                         base_url="http://h/s", now=3_000_000.0 + n))
            reply = codec.decode_message(resp.body, ctype)
            results[(name, n)] = reply
            key = resp.session or key
    codes = {s.cmd: s.data for s in results[("md5-twoway-changes", 1)].commands
             if isinstance(s, Status)}
    assert codes["Replace"] == 200 and codes["Delete"] == 200 and codes["Add"] == 201
    alert_status = [s for s in results[("md5-twoway-changes", 0)].commands
                    if isinstance(s, Status) and s.cmd == "Alert"]
    assert alert_status[0].data == 200           # anchors agreed: no slow sync
    with store.transaction() as tx:
        data = sorted(bytes(i.data).decode() for i in tx.list_items("alice", "contacts"))
    assert len(data) == 3
    assert any("+15559999999" in d for d in data)
    assert not any("Family000002" in d for d in data)
