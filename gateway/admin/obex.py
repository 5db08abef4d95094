"""``omads-admin device sync DEVICE --via obex:...``: dial a handset, send it a SAN and run
the server-alerted session it starts, with the same engine the daemon uses (blocking CLI:
the engine runs on the reactor thread, which only this session uses)."""

from __future__ import annotations

import secrets
from typing import Any

from twisted.internet.defer import maybeDeferred

from gateway.admin.errors import CommandError, UsageProblem
from gateway.config import ConfigError, load_settings
from gateway.config.obex import ENCODINGS, parse_via
from gateway.ds.server.handler import SyncServer
from gateway.ds.server.journal import Journal
from gateway.notifier import payload as notify_payload
from gateway.store.base import StoreError
from gateway.store.notifications import NotifyDevice, notification_store
from gateway.store.ops import ops_store
from gateway.transport.obex.dial import DialError, alerted_session, dial

__all__ = ["ACTION", "add_commands", "sync_device"]

ACTION = "sync"


def add_commands(device: Any) -> None:
    """The ``device sync`` subcommand, on the ``device`` subparsers."""
    p = device.add_parser(
        ACTION, help="dial a handset over OBEX and run a server-alerted sync")
    p.add_argument("device", help="the handset's device id (or an [[obex.handset]] device)")
    p.add_argument("--via", help="obex:tcp:HOST:PORT | obex:serial:/dev/ttyX | "
                                 "obex:bt:MAC[:CHANNEL] (default: from [[obex.handset]])")
    p.add_argument("--encoding", choices=sorted(ENCODINGS), default=None,
                   help="SyncML encoding to ask the handset for (default wbxml)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for the handset at each step")


def _journal(store: Any) -> Journal | None:
    """The session history, so the dialled session shows on the admin pages too."""
    try:
        ops = ops_store(store)
        ops.ensure_schema()
    except StoreError:
        return None
    return Journal(ops=ops.on)


def _notify_device(store: Any, settings: Any, device_id: str) -> NotifyDevice | None:
    """How the device is notified: ``notify-setup`` (the queue's tables), else the
    configuration's [[notify.device]]; its server password signs the SAN."""
    try:
        queues = notification_store(store)
        queues.ensure_schema()
        with queues.transaction() as (_tx, q):
            nd = q.get_device(device_id)
    except StoreError:
        nd = None
    return nd or settings.notify.device(device_id)


def sync_device(args: Any, store: Any, out: Any, *, reactor: Any = None) -> None:
    """Run the whole session; prints one result line. UsageProblem (exit 2) for a bad
    configuration or ``--via``, CommandError (exit 1) when the dial or session fails."""
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        raise UsageProblem(str(e)) from None
    own = settings.obex
    handset = own.handset(args.device)
    via = args.via or (handset.via if handset else None)
    if not via:
        raise UsageProblem(f"no --via given and no [[obex.handset]] for {args.device!r}")
    try:
        target = parse_via(via)
    except ValueError as e:
        raise UsageProblem(str(e)) from None
    encoding = ENCODINGS[args.encoding or (handset.encoding if handset else "wbxml")]
    with store.transaction() as tx:
        device = tx.get_device(args.device)
    nd = _notify_device(store, settings, args.device)
    form = handset.form if handset and handset.form != "auto" else (nd.form if nd else "auto")
    password = (handset.san_password if handset and handset.san_password is not None
                else nd.server_password if nd else None)
    san, san_type = notify_payload.device_san(
        settings.server.server_id, device=device,
        nd=NotifyDevice(device_id=args.device, form=form, nonce=nd.nonce if nd else b""),
        password=password or None, session_id=secrets.randbelow(1 << 16))
    engine = SyncServer(settings.server, store, journal=_journal(store))
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
        raise CommandError(f"sync of {args.device} via {via} failed: {why}")
    print(f"synced {args.device} via {via}: {result.messages} messages", file=out)
