"""The notification admin endpoint: a small JSON resource on its own listener.

    POST /notify      {"device": ID, "datastores": [NAME...], "via": CARRIER}
                      -> 202 {"id": N, "state": "queued", "folded": bool}
    GET  /notify/N    -> 200 the notification (state, attempts, route, reason...) | 404

    GET  /notify/dlr?id=N&try=A&part=P&token=T&status=%d&answer=%A&ts=%T
                      Kannel's delivery report callback (gateway/notify/dlr.py)
                      -> 200 | 400 malformed | 403 bad token | 404 unknown notification

``via`` and ``datastores`` are optional (the device's routes; all datastores). With
``[notify] admin_token`` set, requests need ``Authorization: Bearer <token>``, except the
report callback: Kannel cannot send one, so it is authenticated by its own token instead.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from twisted.web import resource, server

from gateway.notify.dlr import parse_report
from gateway.notify.errors import DLRDecodeError
from gateway.store.notifications import parse_route
from gateway.transport import logs
from gateway.notifier.payload import PayloadError, resolve_datastores

log = logs.get_logger("gateway.notify.http")
MAX_BODY = 65536


def _reply(request: Any, code: int, doc: dict[str, Any]) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"Content-Type", b"application/json")
    request.setHeader(b"Cache-Control", b"no-store")
    return json.dumps(doc).encode("utf-8") + b"\n"


def _send(request: Any, code: int, doc: dict[str, Any]) -> None:
    if not request.finished and not getattr(request, "_disconnected", False):
        request.write(_reply(request, code, doc))
        request.finish()


class NotifyResource(resource.Resource):
    isLeaf = True

    def __init__(self, notify_service: Any, *, datastores: tuple, token: str | None = None):
        super().__init__()
        self.service = notify_service
        self.datastores = datastores
        self.token = token

    def _authorized(self, request: Any) -> bool:
        if self.token is None:
            return True
        given = request.getHeader(b"authorization") or b""
        return hmac.compare_digest(given, b"Bearer " + self.token.encode("utf-8"))

    def render_POST(self, request: Any) -> Any:
        if not self._authorized(request):
            return _reply(request, 401, {"error": "unauthorized"})
        if request.postpath not in ([], [b""]):
            return _reply(request, 404, {"error": "POST to /notify"})
        raw = request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return _reply(request, 413, {"error": "request too large"})
        try:
            doc = json.loads(raw.decode("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("the body must be a JSON object")
            device = doc.get("device")
            if not isinstance(device, str) or not device:
                raise ValueError("device (a string) is required")
            names = doc.get("datastores", [])
            if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
                raise ValueError("datastores must be a list of names")
            chosen = resolve_datastores(tuple(names), self.datastores) if names else ()
            via = doc.get("via")
            if via is not None:
                if not isinstance(via, str):
                    raise ValueError("via must be a string")
                via = str(parse_route(via, bare=True))
        except (ValueError, UnicodeDecodeError, PayloadError) as e:
            return _reply(request, 400, {"error": str(e)})
        d = self.service.enqueue(device, tuple(ds.name for ds in chosen), via, origin="http")
        d.addCallback(lambda r: _send(request, 202, {"id": r[0].id, "state": r[0].state,
                                                     "folded": not r[1]}))
        d.addErrback(self._failed, request)
        return server.NOT_DONE_YET

    def render_GET(self, request: Any) -> Any:
        if [p for p in request.postpath if p] == [b"dlr"]:
            return self._report(request)
        if not self._authorized(request):
            return _reply(request, 401, {"error": "unauthorized"})
        path = [p for p in request.postpath if p]
        if len(path) != 1 or not path[0].isdigit():
            return _reply(request, 404, {"error": "GET /notify/ID"})
        d = self.service.get(int(path[0]))
        d.addCallback(lambda n: _send(request, 404, {"error": "no such notification"})
                      if n is None else _send(request, 200, n.as_dict()))
        d.addErrback(self._failed, request)
        return server.NOT_DONE_YET

    def _report(self, request: Any) -> Any:
        # An SMSC answer need not be UTF-8; the other values must be ASCII digits/hex anyway.
        args = {k.decode("utf-8", "replace"): [v.decode("utf-8", "replace") for v in vs]
                for k, vs in request.args.items()}
        try:
            report = parse_report(args)
        except DLRDecodeError as e:
            return _reply(request, 400, {"error": str(e)})
        d = self.service.report(report)
        d.addCallback(lambda r: _send(request, r[0], r[1]))
        d.addErrback(self._failed, request)
        return server.NOT_DONE_YET

    @staticmethod
    def _failed(failure: Any, request: Any) -> None:
        log.failure("notify admin request failed", failure)
        _send(request, 500, {"error": "internal error"})


def make_admin_site(notify_service: Any, *, datastores: tuple,
                    token: str | None = None) -> server.Site:
    root = resource.Resource()
    root.putChild(b"notify", NotifyResource(notify_service, datastores=datastores, token=token))
    site = server.Site(root)
    site.displayTracebacks = False
    return site
