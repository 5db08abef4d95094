"""The client as OBEX server: a gateway dials us (TCP or serial), PUTs a SAN, and the
session runs over that link with us as SyncML client (omads-protocol.md §5.1, "Who is
OBEX client").

The link handling is the gateway's own OBEX listener (transport/obex/protocol.py, with
the AT preamble on serial lines); in place of its server engine it gets a responder that
checks the SAN, starts a ClientSession, and answers each message the gateway PUTs with
our next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.internet import defer
from twisted.internet.endpoints import serverFromString

from gateway.client import san_forms, sync
from gateway.client.report import summary
from gateway.client.runner import StateFile, flush_all
from gateway.ds.client.engine import ClientSession
from gateway.ds.client.errors import ClientError
from gateway.ds.client.events import SessionEnded
from gateway.obex import ServerConfig
from gateway.errors import RemoteProtocolError


@dataclass(frozen=True, kw_only=True)
class Answer:
    body: bytes
    content_type: str
    session: str | None


class Responder:
    """Stands where the gateway's SyncServer stands in its OBEX listener."""

    def __init__(self, listener):
        self.listener = listener
        self.session: ClientSession | None = None
        self.stores: dict = {}
        self.state_file = None

    def handle(self, request) -> Answer:
        listener = self.listener
        if self.session is None:
            base = request.content_type.split(";")[0].strip().lower()
            if base not in san_forms.SAN_TYPES:     # the DS 1.2 SAN or the SyncML 1.1 form
                raise RemoteProtocolError("expected a notification first",
                                          error_status_hint=415)
            accepted = listener.verdict(request.body, f"OBEX {request.peer or 'link'}",
                                        request.content_type)
            if accepted is None:
                raise RemoteProtocolError("notification refused", error_status_hint=403)
            profile = listener.profile_for(accepted)
            self.stores = sync.open_stores(profile)
            self.state_file = StateFile(profile.state)
            self.session = ClientSession(profile.settings, self.state_file.load(), self.stores,
                                         now=listener.reactor.seconds())
            listener.busy = True
            body = self.session.data_to_send()
            return Answer(body=body, content_type=self.session.content_type, session="client")
        self.session.receive_data(request.body, listener.reactor.seconds(),
                                  content_type=request.content_type)
        error = next((e.error for e in iter(self.session.next_event, None)
                      if isinstance(e, SessionEnded) and e.error is not None), None)
        if error is not None:
            self._end(error)
            raise RemoteProtocolError(str(error), error_status_hint=400) from None
        body = self.session.data_to_send()
        flush_all(self.stores, self.state_file, self.session.state)
        if body is None:
            self._end(None)
            return Answer(body=b"", content_type=request.content_type, session=None)
        return Answer(body=body, content_type=self.session.content_type, session="client")

    def _end(self, error: ClientError | None) -> None:
        listener, session = self.listener, self.session
        self.session = None
        flush_all(self.stores, self.state_file, session.state)
        for store in self.stores.values():
            store.close()
        listener.busy = False
        if error is not None:
            listener.log(f"{error.label}: {error}")
            listener.code = error.exit_code
        else:
            listener.stdout.write(summary(session) + "\n")
            listener.stdout.flush()
            try:
                listener.code = sync.result_code(session)
            except ClientError as exc:
                listener.code = exc.exit_code
        if listener.args.once and not listener.done.called:
            listener.reactor.callLater(0.2, listener.done.callback, None)


class ObexClientLink:
    @staticmethod
    def listen(reactor, text: str, listener):
        """Start the OBEX server on ``tcp:PORT[:interface=IP]`` or ``serial:/dev/ttyX``;
        returns something with ``stopListening``."""
        from gateway.transport.obex.links import (
            ListenSpec, SerialListenerService, parse_listen)
        from gateway.transport.obex.protocol import ObexSyncFactory, ObexSyncProtocol
        responder = Responder(listener)
        config = ServerConfig(idle_timeout=60.0)

        def run(fn, *args):
            return defer.maybeDeferred(fn, *args)
        spec = parse_listen(text)
        if spec.kind == "serial":
            svc = SerialListenerService(ListenSpec(kind="serial", text=text, device=spec.device,
                                                   baudrate=spec.baudrate),
                                        reactor=reactor, make_protocol=lambda: ObexSyncProtocol(
                engine=responder, run=run, reactor=reactor, config=config,
                base_url="obex://client", link="omads-sync", at_preamble=True, reusable=True))
            svc.startService()
            listener.log(f"OBEX server on {spec.device}")
            return _Stopper(svc.stopService)
        factory = ObexSyncFactory(engine=responder, run=run, reactor=reactor, config=config,
                                  base_url="obex://client", link="omads-sync")
        holder: dict = {}
        d = serverFromString(reactor, text).listen(factory)
        d.addCallback(lambda port: (holder.setdefault("port", port),
                                    listener.log(f"OBEX server on {text}")))
        d.addErrback(lambda f: listener.log(f"cannot listen on {text}: {f.getErrorMessage()}"))
        return _Stopper(lambda: holder["port"].stopListening() if "port" in holder else None)


class _Stopper:
    def __init__(self, stop):
        self.stopListening = stop
