"""``omads-admin device notify …``: queue a notification, show the queue, set a device's
routes. The running gateway (any node on the database) picks queued rows up.

    omads-admin … device notify DEVICE [--datastore NAME …] [--via CARRIER] [--wait S]
    omads-admin … device notify-status [ID|DEVICE] [--device DEVICE] [--limit N] [--json]
    omads-admin … device notify-setup DEVICE [--route ROUTE …] [--server-password P]
                                       [--nonce TEXT] [--form auto|1.2|1.1]

CARRIER is ``modem``, ``kannel``, ``pap``, ``sip`` or ``udp`` (a configured carrier with the
device's address on it) or an ad-hoc route: ``sip:URI``, ``udp:HOST:PORT``,
``modem:+MSISDN`` …

``notify`` refuses (exit 1) when the configuration (``--config``) has the service
disabled, or when no route of the device (or ``--via``) has a configured carrier: a row
nobody would send is not queued. With ``--wait`` it waits for the outcome and exits 1 if
the notification failed.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, IO

from gateway.admin.errors import CommandError
from gateway.admin.output import print_json
from gateway.config import ConfigError, load_settings
from gateway.notifier.payload import PayloadError, resolve_datastores
from gateway.notifier.reach import unreachable
from gateway.store.notifications import (SAN_FORMS, KINDS, NotifyDevice, notification_store,
                                         parse_route)

__all__ = ["ACTIONS", "add_commands", "run"]

ACTIONS = ("notify", "notify-status", "notify-setup")


def add_commands(device: Any) -> None:
    """The ``device notify…`` subcommands, on the ``device`` subparsers."""
    p = device.add_parser("notify", help="queue a server-alerted sync notification (SAN)")
    p.add_argument("device_id", metavar="DEVICE")
    p.add_argument("--datastore", "-d", action="append", default=[], metavar="NAME",
                   help="a datastore to alert (repeatable; default: all)")
    p.add_argument("--via", metavar="CARRIER",
                   help=f"{'|'.join(KINDS)} or an ad-hoc route (sip:URI, udp:HOST:PORT, "
                        "modem:+MSISDN ...); default: the device's routes in order")
    p.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="wait up to SECONDS for the outcome (exit 1 if it failed)")
    p = device.add_parser("notify-status", help="show queued and past notifications")
    p.add_argument("id", nargs="?", metavar="ID|DEVICE",
                   help="a notification id, or a device: its notifications")
    p.add_argument("--device", metavar="DEVICE")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = device.add_parser("notify-setup", help="set how a device is notified")
    p.add_argument("device_id", metavar="DEVICE")
    p.add_argument("--route", action="append", default=None, metavar="ROUTE",
                   help="modem:+MSISDN, kannel:+MSISDN, pap:+MSISDN, sip:URI, udp:HOST:PORT "
                        "(repeatable, in the order to try)")
    p.add_argument("--server-password", help="the server password for the SAN digest")
    p.add_argument("--nonce", help="the nonce for the SAN digest (text)")
    p.add_argument("--form", choices=SAN_FORMS, help="SAN form (auto: from the DevInf)")


def _settings(args: Any) -> Any:
    try:
        return load_settings(getattr(args, "config", None))
    except ConfigError as e:
        raise CommandError(str(e)) from None


def _datastores(args: Any) -> tuple[str, ...]:
    if not args.datastore:
        return ()
    settings = _settings(args)
    try:
        return tuple(ds.name for ds in resolve_datastores(tuple(args.datastore),
                                                          settings.server.datastores))
    except PayloadError as e:
        raise CommandError(str(e)) from None


def _report(n: Any) -> str:
    """``report=<UTC time> <text>`` when delivery reports were asked for or came."""
    if not n.report_parts and n.report is None:
        return ""
    when = (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(n.report_time))
            if n.report_time is not None else "-")
    return f"\treport={when} {n.report or 'awaiting'}"


def _show(n: Any, out: IO[str]) -> None:
    stores = ",".join(n.datastores) or "all"
    print(f"{n.id}\t{n.device_id}\t{n.state}\t{stores}\tattempts={n.attempts}"
          f"\troute={n.route or '-'}{_report(n)}\t{n.reason or ''}".rstrip(), file=out)


def _check_reach(args: Any, q: Any, via: str | None) -> None:
    """CommandError when nothing would send the notification (see the module text)."""
    settings = _settings(args) if getattr(args, "config", None) else None
    ns = settings.notify if settings is not None else None
    if ns is not None and not ns.enabled:
        raise CommandError(f"the notification service is disabled ([notify] enabled = false "
                           f"in {settings.source}): nothing would send it")
    nd = q.get_device(args.device_id) or (ns.device(args.device_id) if ns else None)
    carriers = [k for k in KINDS if getattr(ns, k)] if ns is not None else KINDS
    problem = unreachable(carriers, args.device_id, nd, via)
    if problem is not None:
        raise CommandError(problem)


def _wait(queues: Any, nid: int, seconds: float, out: IO[str]) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with queues.transaction() as (_tx, q):
            n = q.get(nid)
        if n is None or n.state != "queued" or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if n is None:
        raise CommandError(f"notification {nid} is gone")
    _show(n, out)
    if n.state == "failed":
        raise CommandError(f"notification {nid} failed: {n.reason}")
    if n.state == "queued":
        raise CommandError(f"notification {nid} still queued after {seconds:g} s: is the "
                           "gateway running with [notify] enabled = true?")


def _status_rows(args: Any, q: Any) -> list:
    if args.id is None:
        return q.list(device_id=args.device, limit=args.limit)
    if args.id.isdigit():
        n = q.get(int(args.id))
        if n is not None:
            return [n]
    rows = q.list(device_id=args.id, limit=args.limit)
    if not rows:
        raise CommandError(f"no notification {args.id}" if args.id.isdigit()
                           else f"no notifications for device {args.id}")
    return rows


def run(args: Any, store: Any, out: IO[str]) -> None:
    """Run one parsed ``device notify…`` command (CommandError: exit 1)."""
    if args.action == "notify":
        via = None
        if args.via is not None:
            try:
                via = str(parse_route(args.via, bare=True))
            except ValueError as e:
                raise CommandError(str(e)) from None
        names = _datastores(args)
    queues = notification_store(store)
    queues.ensure_schema()
    nid = None
    with queues.transaction() as (_tx, q):
        if args.action == "notify":
            _check_reach(args, q, via)
            n, new = q.enqueue(device_id=args.device_id, datastores=names, via=via,
                               now=time.time(), origin="admin")
            nid = n.id
            print(f"{'queued' if new else 'folded into'} notification {n.id} for "
                  f"{args.device_id}", file=out)
        elif args.action == "notify-status":
            rows = _status_rows(args, q)
            if args.json:
                print_json([n.as_dict() for n in rows], out)
                return
            for n in rows:
                _show(n, out)
            if not rows:
                print("no notifications", file=out)
        else:
            nd = q.get_device(args.device_id) or NotifyDevice(device_id=args.device_id)
            try:
                if args.route is not None:
                    nd = replace(nd, routes=tuple(parse_route(r) for r in args.route))
            except ValueError as e:
                raise CommandError(str(e)) from None
            if args.server_password is not None:
                nd = replace(nd, server_password=args.server_password)
            if args.nonce is not None:
                nd = replace(nd, nonce=args.nonce.encode("utf-8"))
            if args.form is not None:
                nd = replace(nd, form=args.form)
            q.put_device(nd)
            routes = ", ".join(map(str, nd.routes)) or "no routes"
            print(f"{args.device_id}: {routes}; SAN form {nd.form}; "
                  f"digest {'with' if nd.server_password is not None else 'without'} password",
                  file=out)
    if nid is not None and args.wait:
        _wait(queues, nid, args.wait, out)
