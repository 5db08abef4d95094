"""The OBEX server binding in Twisted: one transport connection = one SyncML session.

``ObexSyncProtocol`` hosts a :class:`gateway.obex.SyncMLObexServer` (and, on serial lines,
an :class:`gateway.obex.at.AtListener` for the AT preamble). A PUT of a SyncML message runs
the engine once, in the thread pool, exactly as an HTTP POST does (``SyncServer.handle``);
the reply goes back on the peer's GET. The session key stays on the connection: the first
message opens a session, the following ones continue it. A peer error (RemoteProtocolError)
answers the GET with the matching OBEX error (Bad Request, Not Found...) and ends the link;
anything else with Internal Server Error and a logged traceback.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet.protocol import Factory

from gateway.ds.server.handler import Request, Response as EngineResponse
from gateway.obex import (ConnectionClosed, Connected, RequestRejected, ResponseCode,
                          ServerConfig, ServerState, SyncMLObexServer, SyncMLReply,
                          SyncMLRequest)
from gateway.obex.at import AtCommand, AtFailed, AtListener, ObexStarted
from gateway.obex.events import Response
from gateway.errors import RemoteProtocolError
from gateway.transport.host import CoreHost, HostedProtocol
from gateway.transport.logs import get_logger

__all__ = ["ObexSyncProtocol", "ObexSyncFactory", "ERROR_CODES"]

log = get_logger("gateway.transport.obex")

#: Engine error hint (the HTTP status it would be) -> OBEX response (omads-protocol §5.2).
ERROR_CODES: dict[int, int] = {
    400: ResponseCode.BAD_REQUEST,
    401: ResponseCode.UNAUTHORIZED,
    403: ResponseCode.FORBIDDEN,
    404: ResponseCode.NOT_FOUND,
    413: ResponseCode.REQ_ENTITY_TOO_LARGE,
    415: ResponseCode.UNSUPPORTED_MEDIA_TYPE,
}


class ObexSyncProtocol(HostedProtocol):
    """SyncML over OBEX, gateway as OBEX server, on one stream (TCP, serial, RFCOMM).

    ``run(fn, *args)`` runs a blocking call off the reactor thread and returns a Deferred.
    ``at_preamble``: accept AT commands (``AT+CPROT=0``) before OBEX (serial cables).
    ``reusable``: after the OBEX session ends, start a fresh one on the same stream
    instead of closing it (a serial port stays open for the next phone). The cores run in
    a :class:`CoreHost`: the AT listener first (with ``at_preamble``), then the OBEX core."""

    def __init__(self, *, engine: Any, run: Callable[..., Any], reactor: Any,
                 config: ServerConfig, base_url: str, link: str,
                 at_preamble: bool = False, reusable: bool = False):
        self.engine = engine
        self.run = run
        self.reactor = reactor
        self.config = config
        self.base_url = base_url
        self.link = link
        self.at_preamble = at_preamble
        self.reusable = reusable
        self.obex: SyncMLObexServer | None = None   # None while in the AT preamble
        self.session: str | None = None
        self.peer = "?"
        self.closed = False
        self.busy = False           # an engine call is running
        self.error_code: int | None = None
        self.messages = 0
        self._generation = 0        # bumps per OBEX session; stale engine answers are dropped
        self._handlers = {ObexStarted: self._on_obex_started, AtCommand: self._on_at_command,
                          AtFailed: self._on_at_failed, SyncMLRequest: self._run_engine,
                          ConnectionClosed: self._on_closed, RequestRejected: self._on_rejected,
                          Connected: self._on_connected}

    # -- connection -----------------------------------------------------------------------
    def connectionMade(self) -> None:
        try:
            peer = self.transport.getPeer()
        except (AttributeError, NotImplementedError):   # serial ports have no peer
            peer = None
        host = getattr(peer, "host", None)
        self.peer = f"{host}:{getattr(peer, 'port', '')}" if host else self.link
        self.host = CoreHost(self._fresh_session(), reactor=self.reactor,
                             on_event=self._on_event)
        super().connectionMade()
        log.debug("{link}: connection from {peer}", link=self.link, peer=self.peer,
                  session=None, device=None)

    def _fresh_session(self) -> Any:
        """A new session's first core: the AT listener, or the OBEX core at once."""
        self._generation += 1
        self.obex, self.session, self.error_code, self.busy = None, None, None, False
        if self.at_preamble:
            return AtListener(now=self.reactor.seconds(), idle_timeout=self.config.idle_timeout)
        return self._obex_core()

    def _obex_core(self) -> SyncMLObexServer:
        self.obex = SyncMLObexServer(self.config, now=self.reactor.seconds())
        return self.obex

    def dataReceived(self, data: bytes) -> None:
        if self.closed:
            return
        super().dataReceived(data)
        self._answer_error()

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True
        super().connectionLost(reason)
        log.debug("{link}: {peer} gone (session {session})", link=self.link, peer=self.peer,
                  session=self.session, device=None)

    # -- events ---------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None and not self.closed:
            handler(event)

    def _on_obex_started(self, event: ObexStarted) -> None:
        log.debug("{link}: {peer} switched to OBEX", link=self.link, peer=self.peer,
                  session=None, device=None)
        self.host.switch(self._obex_core())
        if event.data:
            self.host.receive_data(event.data)

    def _on_at_command(self, event: AtCommand) -> None:
        log.debug("{link}: AT {command} -> {reply}", link=self.link, command=event.command,
                  reply=event.reply, session=None, device=None)

    def _on_at_failed(self, event: AtFailed) -> None:
        self._end(f"AT preamble failed: {event.reason}")

    def _on_closed(self, event: ConnectionClosed) -> None:
        quiet = event.error is None and (event.reason == "disconnected" or (
            self.reusable and self.obex is not None and not self.obex.obex.connected))
        level = log.debug if quiet else log.info
        level("{link}: OBEX session with {peer} ended: {reason} (session {session})",
              link=self.link, peer=self.peer, reason=event.reason, session=self.session,
              device=None)
        self._end(event.reason)

    def _on_rejected(self, event: RequestRejected) -> None:
        log.info("{link}: {peer} request 0x{op:02X} refused with 0x{code:02X}: {reason}",
                 link=self.link, peer=self.peer, op=event.op, code=event.code,
                 reason=event.reason, session=self.session, device=None)

    def _on_connected(self, event: Connected) -> None:
        log.debug("{link}: {peer} connected, packets up to {size} bytes", link=self.link,
                  peer=self.peer, size=event.max_packet_length, session=None, device=None)

    # -- the engine -----------------------------------------------------------------------
    def _run_engine(self, event: SyncMLRequest) -> None:
        self.busy = True
        self.messages += 1
        generation = self._generation
        request = Request(body=event.body, content_type=event.content_type,
                          session=self.session, base_url=self.base_url, peer=self.peer,
                          now=self.reactor.seconds())
        d = self.run(self.engine.handle, request)
        d.addCallbacks(self._answered, self._failed, callbackArgs=(generation,),
                       errbackArgs=(generation,))
        d.addErrback(lambda f: log.failure("{link}: answering {peer} failed", f,
                                           link=self.link, peer=self.peer,
                                           session=self.session, device=None))

    def _answered(self, response: EngineResponse, generation: int) -> None:
        self.busy = False
        if self.closed or generation != self._generation or self.obex is None:
            log.info("{link}: {peer} went away before the reply (session {session})",
                     link=self.link, peer=self.peer, session=response.session, device=None)
            return
        log.debug("{link}: {peer} session {session}: reply of {size} bytes", link=self.link,
                  peer=self.peer, session=response.session, size=len(response.body),
                  device=None)
        self.session = response.session
        self.host.send(SyncMLReply(body=response.body, content_type=response.content_type))

    def _failed(self, failure: Any, generation: int) -> None:
        self.busy = False
        if self.closed or generation != self._generation:
            return
        exc = failure.value
        device = getattr(exc, "device", None)
        if isinstance(exc, RemoteProtocolError):
            code = ERROR_CODES.get(exc.error_status_hint, ResponseCode.BAD_REQUEST)
            log.info("{link}: {peer} session {session} device {device}: {error} -> 0x{code:02X}",
                     link=self.link, peer=self.peer, session=self.session, device=device,
                     error=str(exc), code=code)
        else:
            code = ResponseCode.INTERNAL_SERVER_ERROR
            log.failure("{link}: engine failed on a message from {peer}, session {session}",
                        failure, link=self.link, peer=self.peer, session=self.session,
                        device=device)
        self.error_code = code
        self._answer_error()

    def _answer_error(self) -> None:
        """After an engine failure, answer the peer's GET (now or when it comes) with
        the error, then end the OBEX session."""
        obex = self.obex
        if self.error_code is None or obex is None or obex.state is not ServerState.GET_WAIT:
            return
        code, self.error_code = self.error_code, None
        self.host.send(Response(code=code))
        self._end("engine error")

    # -- end ------------------------------------------------------------------------------
    def _end(self, reason: str) -> None:
        if self.closed:
            return
        if self.reusable:
            self.host.switch(self._fresh_session())
            return
        self._generation += 1
        self.host.stop()
        self.transport.loseConnection()


class ObexSyncFactory(Factory):
    """Builds an :class:`ObexSyncProtocol` per accepted connection."""

    def __init__(self, *, engine: Any, run: Callable[..., Any], reactor: Any,
                 config: ServerConfig, base_url: str, link: str, at_preamble: bool = False):
        self.kwargs = dict(engine=engine, run=run, reactor=reactor, config=config,
                           base_url=base_url, link=link, at_preamble=at_preamble)

    def buildProtocol(self, addr: Any) -> ObexSyncProtocol:
        proto = ObexSyncProtocol(**self.kwargs)
        proto.factory = self
        return proto
