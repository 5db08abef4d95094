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

from twisted.internet.protocol import Factory, Protocol

from gateway.ds.server.handler import Request, Response as EngineResponse
from gateway.obex import (ConnectionClosed, Connected, Disconnect, RequestRejected,
                          ResponseCode, ServerConfig, ServerState, SyncMLObexServer,
                          SyncMLRequest)
from gateway.obex.at import AtCommand, AtFailed, AtListener, ObexStarted
from gateway.obex.events import Response
from gateway.syncml.errors import RemoteProtocolError
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


class ObexSyncProtocol(Protocol):
    """SyncML over OBEX, gateway as OBEX server, on one stream (TCP, serial, RFCOMM).

    ``run(fn, *args)`` runs a blocking call off the reactor thread and returns a Deferred.
    ``at_preamble``: accept AT commands (``AT+CPROT=0``) before OBEX (serial cables).
    ``reusable``: after the OBEX session ends, start a fresh one on the same stream
    instead of closing it (a serial port stays open for the next phone)."""

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
        self.core: SyncMLObexServer | None = None
        self.at: AtListener | None = None
        self.session: str | None = None
        self.peer = "?"
        self.closed = False
        self.busy = False           # an engine call is running
        self.error_code: int | None = None
        self.messages = 0
        self._timer = None
        self._generation = 0        # bumps per OBEX session; stale engine answers are dropped

    # -- connection -----------------------------------------------------------------------
    def connectionMade(self) -> None:
        try:
            peer = self.transport.getPeer()
        except (AttributeError, NotImplementedError):   # serial ports have no peer
            peer = None
        host = getattr(peer, "host", None)
        self.peer = f"{host}:{getattr(peer, 'port', '')}" if host else self.link
        self._fresh_session()
        log.debug("{link}: connection from {peer}", link=self.link, peer=self.peer,
                  session=None, device=None)

    def _fresh_session(self) -> None:
        now = self.reactor.seconds()
        self._generation += 1
        self.core = SyncMLObexServer(self.config, now=now)
        self.at = AtListener() if self.at_preamble else None
        self.session, self.error_code, self.busy = None, None, False
        self._rearm()

    def connectionLost(self, reason: Any = None) -> None:
        self.closed = True
        self._cancel_timer()
        if self.core is not None and self.core.state is not ServerState.CLOSED:
            self.core.receive_data(b"", self.reactor.seconds())
            for _ in self.core.events():
                pass
        log.debug("{link}: {peer} gone (session {session})", link=self.link, peer=self.peer,
                  session=self.session, device=None)

    # -- bytes in -------------------------------------------------------------------------
    def dataReceived(self, data: bytes) -> None:
        if self.closed or self.core is None:
            return
        if self.at is not None:
            data = self._preamble(data)
            if self.at is not None or not data:
                self._rearm()
                return
        self.core.receive_data(data, self.reactor.seconds())
        self._pump()

    def _preamble(self, data: bytes) -> bytes:
        """Feed the AT listener; returns the bytes that follow a switch to OBEX."""
        assert self.at is not None
        self.at.receive_data(data)
        self._write(self.at.data_to_send())
        rest = b""
        for event in self.at.events():
            if isinstance(event, ObexStarted):
                self.at, rest = None, event.data
                log.debug("{link}: {peer} switched to OBEX", link=self.link, peer=self.peer,
                          session=None, device=None)
            elif isinstance(event, AtCommand):
                log.debug("{link}: AT {command} -> {reply}", link=self.link,
                          command=event.command, reply=event.reply, session=None, device=None)
            elif isinstance(event, AtFailed):
                self._end(f"AT preamble failed: {event.reason}")
        return rest

    def _pump(self) -> None:
        core = self.core
        assert core is not None
        self._write(core.data_to_send())
        for event in core.events():
            if isinstance(event, SyncMLRequest):
                self._run_engine(event)
            elif isinstance(event, ConnectionClosed):
                self._write(core.data_to_send())
                quiet = event.error is None and (event.reason == "disconnected" or (
                    self.reusable and not core.obex.connected))
                level = log.debug if quiet else log.info
                level("{link}: OBEX session with {peer} ended: {reason} (session {session})",
                      link=self.link, peer=self.peer, reason=event.reason,
                      session=self.session, device=None)
                self._end(event.reason)
                return
            elif isinstance(event, RequestRejected):
                log.info("{link}: {peer} request 0x{op:02X} refused with 0x{code:02X}: {reason}",
                         link=self.link, peer=self.peer, op=event.op, code=event.code,
                         reason=event.reason, session=self.session, device=None)
            elif isinstance(event, Connected):
                log.debug("{link}: {peer} connected, packets up to {size} bytes",
                          link=self.link, peer=self.peer, size=event.max_packet_length,
                          session=None, device=None)
            elif isinstance(event, Disconnect):
                pass
        self._answer_error()
        self._rearm()

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
        if self.closed or generation != self._generation or self.core is None:
            log.info("{link}: {peer} went away before the reply (session {session})",
                     link=self.link, peer=self.peer, session=response.session, device=None)
            return
        log.debug("{link}: {peer} session {session}: reply of {size} bytes", link=self.link,
                  peer=self.peer, session=response.session, size=len(response.body),
                  device=None)
        self.session = response.session
        self._write(self.core.reply(response.body, response.content_type,
                                    self.reactor.seconds()))
        self._pump()

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
        core = self.core
        if self.error_code is None or core is None or core.state is not ServerState.GET_WAIT:
            return
        code, self.error_code = self.error_code, None
        self._write(core.obex.send(Response(code=code), self.reactor.seconds()))
        self._end("engine error")

    # -- bytes out, timer, end ------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        if data and not self.closed:
            self.transport.write(data)

    def _end(self, reason: str) -> None:
        if self.reusable and not self.closed:
            self._fresh_session()
            return
        self._cancel_timer()
        if not self.closed:
            self.transport.loseConnection()

    def _rearm(self) -> None:
        self._cancel_timer()
        if self.closed or self.core is None:
            return
        deadline = self.core.next_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - self.reactor.seconds())
            self._timer = self.reactor.callLater(delay, self._timeout)

    def _timeout(self) -> None:
        self._timer = None
        if self.closed or self.core is None:
            return
        self.core.handle_timeout(self.reactor.seconds())
        self._pump()

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


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
