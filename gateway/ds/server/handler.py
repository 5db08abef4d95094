"""The Data Sync server facade: one SyncML message in, the reply out (engine-api.md).

``SyncServer.handle(request)`` = decode -> ``handle_message`` -> encode, inside ONE store
transaction per message, session state saved in the same transaction. A resent message
(same MsgID as the last one of the session) gets the cached reply and changes nothing.
A store failure rolls the message back; the reply then carries the failure status for
every command and a second transaction records only the session bookkeeping.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Callable

from gateway.ds.hmac import HmacHeader
from gateway.ds.server import journal as journal_
from gateway.ds.server.engine import Engine
from gateway.ds.server.phases import SessionInput, SessionPhase
from gateway.ds.server.session import SessionState
from gateway.ds.settings import ServerSettings
from gateway.store.base import StoreError, status_for
from gateway.syncml import codec
from gateway.syncml.codes import StatusCode
from gateway.errors import RemoteProtocolError
from gateway.syncml.model import Message


NO_SESSION = StatusCode.NOT_FOUND    # a session key unknown, expired or ended: HTTP 404


@dataclass(frozen=True, kw_only=True)
class Request:
    body: bytes
    content_type: str
    session: str | None
    base_url: str
    peer: str = ""
    now: float
    hmac: HmacHeader | None = None   # the parsed x-syncml-hmac header (HTTP), if any


@dataclass(frozen=True, kw_only=True)
class Response:
    body: bytes
    content_type: str
    session: str | None


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """The result of one message at the model level."""

    message: Message
    body: bytes
    session: str | None       # None when the session ended with this reply
    key: str                  # the session key the message ran in
    resent: bool = False


class SyncServer:
    """Blocking; call from a worker thread. Messages of one session must not overlap."""

    def __init__(self, settings: ServerSettings, store, *, log: Callable[..., None] | None = None,
                 random_bytes: Callable[[int], bytes] | None = None,
                 journal: journal_.Journal | None = None):
        self.settings = settings
        self.store = store
        self.log = log
        self.journal = journal
        self._random = random_bytes or secrets.token_bytes
        self.engine = Engine(settings, log=log, random_bytes=self._random)

    def _note(self, event: str, **fields) -> None:
        if self.log is not None:
            self.log(event, **fields)

    def handle(self, request: Request) -> Response:
        """Decode, run one message in one store transaction, encode the reply."""
        encoding = codec.media_type(request.content_type)
        if len(request.body) > self.settings.max_msg_size:
            raise RemoteProtocolError(f"message of {len(request.body)} bytes exceeds our "
                                      f"MaxMsgSize {self.settings.max_msg_size}",
                                      error_status_hint=StatusCode.REQUEST_ENTITY_TOO_LARGE)
        msg = codec.decode_message(request.body, encoding, limits=self.settings.limits)
        out = self.handle_message(msg, session=request.session, base_url=request.base_url,
                                  peer=request.peer, now=request.now, encoding=encoding,
                                  mac_header=request.hmac, body=request.body)
        return Response(body=out.body, content_type=encoding, session=out.session)

    def handle_message(self, msg: Message, *, session: str | None, base_url: str,
                       peer: str = "", now: float, encoding: str = codec.XML,
                       mac_header: HmacHeader | None = None, body: bytes = b"") -> Outcome:
        """``mac_header`` and the exact received ``body`` serve auth-MAC (ds/hmac.py)."""
        notes: list[tuple[str, dict]] = []
        try:
            with self.store.transaction() as tx:
                state = self._load(tx, session, msg, now=now, peer=peer, encoding=encoding)
                if session is not None and state.last_msg_id == msg.header.msg_id \
                        and state.last_reply:
                    cached = state.cached_reply
                    self._note("resent message answered from cache", session=state.key,
                               device=state.device_id, msg_id=msg.header.msg_id)
                    return Outcome(message=codec.decode_message(cached, encoding), body=cached,
                                   session=state.key, key=state.key, resent=True)
                reply, out, ended = self.engine.process(tx, state, msg, encoding=encoding,
                                                        base_url=base_url, now=now, peer=peer,
                                                        mac_header=mac_header, body=body)
                state.messages += 1
                state.bytes_in += len(body)
                state.bytes_out += len(out)
                notes = journal_.record(self.journal, tx, state, msg, reply, received=body,
                                        sent=out, ended=ended, new=session is None, now=now,
                                        transport=_transport(base_url))
                self._finish_message(tx, state, msg, out, ended)
                outcome = Outcome(message=reply, body=out,
                                  session=None if ended else state.key, key=state.key)
        except StoreError as exc:
            code = status_for(exc)
            self._note("store failure; message rolled back", session=session, error=repr(exc),
                       status=code)
            return self._failed(msg, session, base_url, peer, now, encoding, code)
        for event, fields in notes:     # once the message is committed
            self._note(event, **fields)
        return outcome

    def _finish_message(self, tx, state: SessionState, msg: Message, body: bytes,
                        ended: bool) -> None:
        state.last_msg_id = msg.header.msg_id
        state.cache_reply(body)
        if ended:   # kept only to answer a resend of this last message
            state.advance(SessionInput.ENDED)
            state.datastores = {}
            state.queue = ""
            state.inflight = {}
        tx.save_session(state.key, state.to_bytes(), expires=state.expires)

    def _failed(self, msg, session, base_url, peer, now, encoding, code) -> Outcome:
        with self.store.transaction() as tx:
            state = self._load(tx, session, msg, now=now, peer=peer, encoding=encoding)
            reply, body = self.engine.failure_reply(state, msg, code, encoding=encoding,
                                                    base_url=base_url)
            self._finish_message(tx, state, msg, body, False)
        return Outcome(message=reply, body=body, session=state.key, key=state.key)

    # -- session state -------------------------------------------------------------------
    def _load(self, tx, session: str | None, msg: Message, *, now: float, peer: str,
              encoding: str) -> SessionState:
        if session is None:
            return self._new_session(msg, now=now, peer=peer, encoding=encoding)
        raw = tx.load_session(session)
        if raw is None:
            raise RemoteProtocolError(f"unknown session {session!r}", error_status_hint=NO_SESSION)
        try:
            state = SessionState.from_bytes(bytes(raw))
        except (ValueError, TypeError, KeyError) as exc:
            raise RemoteProtocolError(f"unusable session state: {exc}",
                                      error_status_hint=NO_SESSION) from None
        if state.expires < now:
            raise RemoteProtocolError(f"session {session!r} expired", error_status_hint=NO_SESSION)
        if state.phase is SessionPhase.ENDED and state.last_msg_id != msg.header.msg_id:
            raise RemoteProtocolError(f"session {session!r} has ended",
                                      error_status_hint=NO_SESSION)
        state.expires = now + self.settings.session_timeout
        return state

    def _new_session(self, msg: Message, *, now: float, peer: str, encoding: str) -> SessionState:
        hdr = msg.header
        key = base64.urlsafe_b64encode(self._random(18)).decode("ascii").rstrip("=")
        return SessionState(
            key=key, created=now, expires=now + self.settings.session_timeout,
            device_id=hdr.source.loc_uri if hdr.source else "",
            loc_name=hdr.source.loc_name if hdr.source else None,
            server_uri=hdr.target.loc_uri if hdr.target else "",
            ver_dtd=hdr.ver_dtd or "1.2", ver_proto=hdr.ver_proto or "SyncML/1.2",
            session_id=hdr.session_id, encoding=encoding, peer=peer)


def _transport(base_url: str) -> str:
    return "obex" if base_url.startswith("obex") else "http"
