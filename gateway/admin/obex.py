"""``omads-admin device sync DEVICE --via obex:...``: dial a handset, send it a SAN and run
the server-alerted session it starts, with the same engine the daemon uses (blocking CLI:
the engine runs on the reactor thread, which only this session uses)."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from twisted.internet.defer import maybeDeferred

from gateway.ds.server.handler import SyncServer
from gateway.extensions import FeatureError, FeatureUsageError
from gateway.store.notifications import NotifyDevice
from gateway.notifier import payload as notify_payload
from gateway.transport.obex.dial import DialError, alerted_session, dial, parse_via
from gateway.config.obex import ENCODINGS, SECTION, Settings

__all__ = ["sync_device"]


def _fail(err: Any, text: str, code: int) -> None:
    """Exit 1 (the dial or the session failed) or 2 (bad usage) through omads-admin."""
    raise (FeatureUsageError if code == 2 else FeatureError)(text)


def sync_device(args: Any, store: Any, out: Any, *, reactor: Any = None,
                err: Any = None) -> None:
    """Run the whole session; prints one result line, exits 1 on failure."""
    from gateway.config import ConfigError, load_settings
    err = err or sys.stderr
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        _fail(err, str(e), 2)
    own: Settings = settings.features.get(SECTION) or Settings()
    handset = own.handset(args.device)
    via = args.via or (handset.via if handset else None)
    if not via:
        _fail(err, f"no --via given and no [[obex.handset]] for {args.device!r}", 2)
    try:
        target = parse_via(via)
    except ValueError as e:
        _fail(err, str(e), 2)
    encoding = ENCODINGS[args.encoding or (handset.encoding if handset else "wbxml")]
    with store.transaction() as tx:
        device = tx.get_device(args.device)
    san, san_type = notify_payload.device_san(
        settings.server.server_id, device=device,
        nd=NotifyDevice(device_id=args.device, form=handset.form if handset else "auto"),
        password=handset.san_password if handset else None,
        session_id=secrets.randbelow(1 << 16))
    engine = SyncServer(settings.server, store)
    if reactor is None:
        from twisted.internet import reactor
    box: dict[str, Any] = {}

    def run(fn: Any, *a: Any) -> Any:
        return maybeDeferred(fn, *a)

    def go() -> None:
        d = maybeDeferred(dial, reactor, target, timeout=args.timeout,
                          config=own.client_config())
        d.addCallback(lambda client: alerted_session(
            client, engine=engine, run=run, san=san, san_type=san_type, reactor=reactor,
            peer=target.text,
            encoding=encoding, base_url="obex://" + target.kind))
        guard = reactor.callLater(args.timeout * 10, d.cancel)
        d.addBoth(lambda r: box.setdefault("result", r))
        d.addBoth(lambda _: guard.active() and guard.cancel())
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(go)
    reactor.run(installSignalHandlers=False)
    result = box.get("result")
    if isinstance(result, Exception) or hasattr(result, "value"):
        exc = getattr(result, "value", result)
        why = str(exc) if isinstance(exc, DialError) else f"{type(exc).__name__}: {exc}"
        _fail(err, f"sync of {args.device} via {via} failed: {why}", 1)
    print(f"synced {args.device} via {via}: {result.messages} messages", file=out)
