"""A scripted SyncML DS client for engine tests: builds real messages, sends them as bytes
through SyncServer.handle, and applies the server's replies to a local item dict."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from gateway.ds.server.handler import Request, SyncServer
from gateway.store.accounts import make_secret
from gateway.syncml import codec
from gateway.syncml.devinf import CTInfo, DataStore, DevInf
from gateway.syncml.metinf import Anchor, Meta
from gateway.syncml.model import (
    Add, Alert, Cred, Delete, Item, Location, Map, MapItem, Message, Put, Replace, Status,
    Sync, SyncBody, SyncHdr, command_name,
)

VCARD = "text/vcard"


def vcard(n: int, tel: str = "", extra: str = "") -> str:
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"N:Family{n:06d};Given{n:06d};;;\r\nFN:Given{n:06d} Family{n:06d}\r\n"
            f"TEL;TYPE=CELL:{tel or f'+1555{n:07d}'}\r\n{extra}END:VCARD\r\n")


@dataclass
class Exchange:
    request: Message
    reply: Message
    body: bytes


@dataclass
class SimClient:
    server: SyncServer
    device_id: str = "sim-device"
    user: str = "alice"
    password: str = "secret"
    auth: str = "md5"
    encoding: str = codec.XML
    ds_uri: str = "./contacts"
    server_ds: str = "contacts"
    max_msg_size: int | None = None
    max_obj_size: int | None = None
    large_objs: bool = True
    send_devinf: bool = True
    items_per_message: int | None = None
    ver: str = "1.2"
    now: float = 1_000_000.0
    items: dict = field(default_factory=dict)       # luid -> vCard text
    nonce: bytes = b""
    last_anchor: str | None = None
    next_luid: int = 1
    session: str | None = None
    msg_id: int = 0
    session_id: int = 0
    log: list = field(default_factory=list)          # Exchange per message

    # -- message building ----------------------------------------------------------
    def cred(self) -> Cred | None:
        if self.auth == "none":
            return None
        if self.auth == "basic":
            data = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return Cred(meta=Meta(type="syncml:auth-basic", format="b64"), data=data)
        secret = make_secret(self.user, self.password)
        digest = hashlib.md5(secret.encode() + b":" + self.nonce).digest()
        return Cred(meta=Meta(type="syncml:auth-md5", format="b64"),
                    data=base64.b64encode(digest).decode())

    def header(self, with_cred: bool) -> SyncHdr:
        self.msg_id += 1
        meta = None
        if self.max_msg_size or self.max_obj_size:
            meta = Meta(max_msg_size=self.max_msg_size, max_obj_size=self.max_obj_size)
        return SyncHdr(ver_dtd=self.ver, ver_proto=f"SyncML/{self.ver}",
                       session_id=str(self.session_id), msg_id=str(self.msg_id),
                       target=Location(loc_uri="http://gw/sync"),
                       source=Location(loc_uri=self.device_id, loc_name=self.user),
                       cred=self.cred() if with_cred else None, meta=meta)

    def devinf(self) -> DevInf:
        return DevInf(ver_dtd="1.2", man="sim", dev_id=self.device_id, dev_typ="phone",
                      support_large_objs=self.large_objs, support_number_of_changes=True,
                      datastores=(DataStore(source_ref=self.ds_uri,
                                            rx_pref=CTInfo(ct_type=VCARD, ver_ct="3.0"),
                                            tx_pref=CTInfo(ct_type=VCARD, ver_ct="3.0"),
                                            sync_cap=(1, 2, 3, 4, 5, 6, 7)),))

    def send(self, commands: list, *, final: bool = True, with_cred: bool = False,
             raw_header: SyncHdr | None = None) -> Message:
        numbered, n = [], 0
        for cmd in commands:
            n += 1
            if isinstance(cmd, Sync):
                cid, kids = str(n), []
                for c in cmd.commands:
                    n += 1
                    kids.append(_with_id(c, str(n)))
                numbered.append(_with_id(cmd, cid, commands=tuple(kids)))
            else:
                numbered.append(_with_id(cmd, str(n)))
        msg = Message(header=raw_header or self.header(with_cred),
                      body=SyncBody(commands=tuple(numbered), final=final))
        body = codec.encode_message(msg, self.encoding)
        resp = self.server.handle(Request(body=body, content_type=self.encoding,
                                          session=self.session, base_url="http://gw/sync",
                                          peer="10.0.0.1", now=self.now))
        self.now += 1
        if resp.session is not None:
            self.session = resp.session
        reply = codec.decode_message(resp.body, resp.content_type)
        assert resp.content_type == self.encoding
        if self.max_msg_size:
            assert len(resp.body) <= self.max_msg_size, (len(resp.body), self.max_msg_size)
        self.log.append(Exchange(request=msg, reply=reply, body=resp.body))
        self.ended = resp.session is None
        for cmd in reply.commands:
            if isinstance(cmd, Status) and cmd.cmd == "SyncHdr" and cmd.chal is not None:
                nn = cmd.chal.meta.next_nonce if cmd.chal.meta else None
                if nn:
                    self.nonce = base64.b64decode(nn)
        return reply

    # -- a whole session -----------------------------------------------------------------
    def sync(self, mode: int = 200, *, adds=(), replaces=(), deletes=(), send_all=None):
        """Run one session; returns (server alert code, statuses the server gave us)."""
        self.session, self.msg_id = None, 0
        self.session_id += 1
        anchor_next = f"A{self.session_id:04d}"
        cmds = []
        if self.send_devinf:
            cmds.append(Put(meta=Meta(type=codec.DEVINF_XML), items=(Item(
                source=Location(loc_uri="./devinf12"), data=self.devinf()),)))
        cmds.append(Alert(data=mode, items=(Item(
            target=Location(loc_uri=self.server_ds), source=Location(loc_uri=self.ds_uri),
            meta=Meta(anchor=Anchor(last=self.last_anchor, next=anchor_next))),)))
        reply = self.send(cmds, with_cred=True)
        server_alert = next((c for c in reply.commands if isinstance(c, Alert)
                             and c.data and 200 <= c.data <= 225), None)
        self.alert_statuses = [c for c in reply.commands if isinstance(c, Status)]
        if server_alert is None:
            return None, self.alert_statuses
        smode = server_alert.data
        if send_all is None:
            send_all = smode in (201, 203)
        if smode == 205:
            self.items.clear()
        changes = []
        if send_all:
            changes = [Add(meta=Meta(type=VCARD), items=(Item(source=Location(loc_uri=l),
                       data=d),)) for l, d in self.items.items()]
        elif smode not in (204, 205):
            for luid, data in adds:
                self.items[luid] = data
                changes.append(Add(meta=Meta(type=VCARD), items=(Item(
                    source=Location(loc_uri=luid), data=data),)))
            for luid, data in replaces:
                self.items[luid] = data
                changes.append(Replace(meta=Meta(type=VCARD), items=(Item(
                    source=Location(loc_uri=luid), data=data),)))
            for luid in deletes:
                self.items.pop(luid, None)
                changes.append(Delete(items=(Item(source=Location(loc_uri=luid)),)))
        statuses = self.statuses_for(reply)
        per = self.items_per_message or max(1, len(changes))
        chunks = [changes[i:i + per] for i in range(0, len(changes), per)] or [[]]
        got = []
        for i, part in enumerate(chunks):
            last = i == len(chunks) - 1
            sync = Sync(target=Location(loc_uri=self.server_ds),
                        source=Location(loc_uri=self.ds_uri),
                        number_of_changes=len(changes), commands=tuple(part))
            reply = self.send(statuses + [sync], final=last)
            got += [c for c in reply.commands if isinstance(c, Status)]
            statuses = self.statuses_for(reply)
        got += self.receive(reply)
        self.last_anchor = anchor_next
        return smode, got

    def receive(self, reply: Message) -> list:
        """Apply server Syncs, answer with Statuses and Maps until the session ends."""
        got = []
        self.chunk = None
        while not self.ended:
            statuses, mapitems = [], []
            for cmd in reply.commands:
                if isinstance(cmd, Sync):
                    statuses.append(self._status(reply, cmd, 200))
                    for c in cmd.commands:
                        statuses.append(self._apply(reply, c, mapitems))
                elif not isinstance(cmd, Status):
                    statuses.append(self._status(reply, cmd, 200))
            out = statuses
            if mapitems:
                out.append(Map(target=Location(loc_uri=self.server_ds),
                               source=Location(loc_uri=self.ds_uri), map_items=tuple(mapitems)))
            if not reply.final and not mapitems and all(isinstance(c, Status) for c in out) \
                    and len(out) <= 1:
                out.append(Alert(data=222, items=(Item(target=Location(loc_uri="http://gw/sync"),
                                                       source=Location(loc_uri=self.device_id)),)))
            reply = self.send(out, final=reply.final)
            got += [c for c in reply.commands if isinstance(c, Status)]
        return got

    def _status(self, reply, cmd, code, source=None, target=None) -> Status:
        return Status(msg_ref=reply.header.msg_id, cmd_ref=cmd.cmd_id, cmd=command_name(cmd),
                      data=code, source_refs=(source,) if source else (),
                      target_refs=(target,) if target else ())

    def _apply(self, reply, cmd, mapitems) -> Status:
        item = cmd.items[0]
        data = item.data
        if isinstance(data, bytes):
            data = data.decode()
        if item.more_data or self.chunk is not None:
            if self.chunk is None:
                self.chunk = {"size": item.meta.size, "data": ""}
            self.chunk["data"] += data or ""
            if item.more_data:
                return self._status(reply, cmd, 213, source=item.source_uri)
            data = self.chunk["data"]
            assert len(data.encode()) == self.chunk["size"]
            self.chunk = None
        if isinstance(cmd, Add):
            luid = f"s{self.next_luid}"
            self.next_luid += 1
            self.items[luid] = data
            mapitems.append(MapItem(target=Location(loc_uri=item.source_uri),
                                    source=Location(loc_uri=luid)))
            return self._status(reply, cmd, 201, source=item.source_uri)
        if isinstance(cmd, Replace):
            self.items[item.target_uri] = data
            return self._status(reply, cmd, 200, target=item.target_uri)
        if isinstance(cmd, Delete):
            found = self.items.pop(item.target_uri, None)
            return self._status(reply, cmd, 200 if found is not None else 211,
                                target=item.target_uri)
        return self._status(reply, cmd, 406)

    def statuses_for(self, reply: Message) -> list:
        out = []
        for cmd in reply.commands:
            if isinstance(cmd, Status):
                continue
            out.append(self._status(reply, cmd, 200))
        return out


def _with_id(cmd, cid, **kw):
    from dataclasses import replace
    return replace(cmd, cmd_id=cid, **kw)


def status_codes(statuses, cmd: str) -> list[int]:
    return [s.data for s in statuses if isinstance(s, Status) and s.cmd == cmd]
