"""Replaying the client side of the captured SyncEvolution sessions
(tests/fixtures/syncevolution/sessions): shared by the engine and OBEX tests."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

from gateway.ds.auth import md5_digest
from gateway.store.accounts import make_secret
from gateway.store.base import Device
from gateway.syncml import codec
from gateway.syncml.model import Message, Status
from tests.syncml.captures import FIXTURES

SESSIONS = FIXTURES / "syncevolution" / "sessions"


def client_messages(session: Path) -> list[Path]:
    """The client's messages of one captured session, in order."""
    ext = "wbxml" if session.name.startswith("wbxml-") else "xml"
    return sorted(session.glob(f"*-client.{ext}"))


def captured_nonces(enc: str) -> list[bytes]:
    """Every nonce the captured server handed out (and the empty first-contact one)."""
    ext, ctype = ("wbxml", codec.WBXML) if enc == "wbxml" else ("xml", codec.XML)
    out = [b""]
    for f in SESSIONS.glob(f"{enc}-*/*-server.{ext}"):
        for c in codec.decode_message(f.read_bytes(), ctype).commands:
            if isinstance(c, Status) and c.chal is not None and c.chal.meta.next_nonce:
                out.append(base64.b64decode(c.chal.meta.next_nonce))
    return out


def prime_nonce(store, msg: Message, nonces: list[bytes]) -> None:
    """Give the device the nonce the captured client computed its md5 Cred with."""
    cred = msg.header.cred
    if cred is None or "md5" not in (cred.meta.type or ""):
        return
    secret = make_secret("alice", "secret")
    data = cred.data if isinstance(cred.data, str) else cred.data.decode()
    nonce = next(n for n in nonces if md5_digest(secret, n) == data.strip())
    dev_id = msg.header.source.loc_uri
    with store.transaction() as tx:
        dev = tx.get_device(dev_id) or Device(device_id=dev_id, username="alice")
        tx.put_device(replace(dev, nonce=nonce))
