"""``omads-admin device list|show|forget``: the devices that synced.

    omads-admin … device list [--user NAME] [--json]
    omads-admin … device show DEVICE [--json]      DevInf decoded, datastores, last syncs
    omads-admin … device forget DEVICE [-d DS]     the next sync (of DS) is slow
"""

from __future__ import annotations

import time
from typing import IO, Any

from gateway.admin import devices
from gateway.admin.errors import CommandError
from gateway.admin.output import print_json, when
from gateway.config import ConfigError, Settings, load_settings
from gateway.store.base import StoreError
from gateway.store.notifications import notification_store
from gateway.store.ops import ops_store

__all__ = ["ACTIONS", "add_commands", "run", "settings_of"]

ACTIONS = ("list", "show", "forget")


def add_commands(device: Any) -> None:
    p = device.add_parser("list", help="list devices seen, their user and last contact")
    p.add_argument("--user", "-u", help="only this user's devices")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = device.add_parser("show", help="a device's DevInf, datastores and last syncs")
    p.add_argument("device_id", metavar="DEVICE")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = device.add_parser("forget", help="forget a device's anchors: its next sync is slow")
    p.add_argument("device_id", metavar="DEVICE")
    p.add_argument("--datastore", "-d", metavar="NAME", help="only this datastore")


def settings_of(args: Any) -> Settings:
    try:
        return load_settings(getattr(args, "config", None))
    except ConfigError as e:
        raise CommandError(str(e)) from None


def _ops(store: Any) -> Any:
    try:
        ops = ops_store(store)
        ops.ensure_schema()
        return ops
    except StoreError:
        return None


def _notify_device(store: Any, settings: Settings, device_id: str) -> Any:
    try:
        queues = notification_store(store)
        queues.ensure_schema()
        with queues.transaction() as (_tx, q):
            nd = q.get_device(device_id)
    except StoreError:
        nd = None
    return nd or settings.notify.device(device_id)


def _show_text(d: dict[str, Any], out: IO[str]) -> None:
    print(f"device      {d['device']}", file=out)
    print(f"user        {d['user'] or '-'}", file=out)
    print(f"last seen   {when(d['last_seen'])}", file=out)
    inf = d["devinf"]
    if inf is None:
        print("devinf      none stored", file=out)
    else:
        print(f"devinf      {inf['man'] or '-'} {inf['mod'] or '-'} (OEM {inf['oem'] or '-'}), "
              f"FwV {inf['fwv'] or '-'}, SwV {inf['swv'] or '-'}, HwV {inf['hwv'] or '-'}, "
              f"type {inf['devtyp'] or '-'}, SyncML DevInf {inf['verdtd']}", file=out)
        for ds in inf["datastores"]:
            print(f"  datastore {ds['uri']}\t{ds['name'] or ''}\t{ds['rx_pref'] or ''}\t"
                  f"sync types {','.join(map(str, ds['sync_types'])) or '-'}", file=out)
    s = d["last_session"]
    if s is not None:
        print(f"session     last {when(s['started'])}: {s['state']}, {s['transport']}, SyncML "
              f"{s['version']}, {s['encoding'] or '-'}, {s['messages']} messages", file=out)
    for st in d["sync_states"]:
        print(f"anchors     {st['datastore']}: {'kept' if st['anchors'] else 'forgotten (next sync slow)'}",
              file=out)
    for r in d["last_syncs"]:
        why = f" ({r['slow_reason']})" if r["slow_reason"] else ""
        print(f"last sync   {r['datastore']}: {when(r['finished'])} {r['mode']}{why} {r['result']}; "
              f"from client +{r['add_in']} ~{r['replace_in']} -{r['delete_in']} ={r['unchanged_in']} refused "
              f"{r['refused_in']}; to client +{r['add_out']} ~{r['replace_out']} "
              f"-{r['delete_out']} refused {r['refused_out']}; conflicts {r['conflicts']}; "
              f"{r['duration']} s", file=out)
    n = d["notify"]
    if n is None:
        print("notify      not set up", file=out)
    else:
        print(f"notify      routes {', '.join(n['routes']) or 'none'}; SAN form {n['form']}; "
              f"digest {n['digest']}", file=out)
    if d["trace_until"]:
        print(f"trace       on until {when(d['trace_until'])}", file=out)


def run(args: Any, store: Any, out: IO[str]) -> None:
    if args.action == "list":
        with store.transaction() as tx:
            devs = tx.list_devices(args.user)
        if args.json:
            print_json([{"device": d.device_id, "user": d.username, "last_seen": d.last_seen}
                        for d in devs], out)
            return
        for dev in devs:
            print(f"{dev.device_id}\t{dev.username or '-'}\t{when(dev.last_seen)}", file=out)
        if not devs:
            print("no devices", file=out)
        return
    settings = settings_of(args)
    datastores = settings.server.datastores
    if args.action == "show":
        ops = _ops(store)
        nd = _notify_device(store, settings, args.device_id)
        with store.transaction() as tx:
            d = devices.describe(tx, ops.on(tx) if ops else None, args.device_id,
                                 datastores=datastores, notify_device=nd, now=time.time())
        if d is None:
            raise CommandError(f"no device {args.device_id!r}")
        if args.json:
            print_json(d, out)
        else:
            _show_text(d, out)
        return
    if args.datastore is not None and not any(ds.matches(args.datastore) for ds in datastores):
        raise CommandError(f"unknown datastore {args.datastore!r}")
    with store.transaction() as tx:
        if tx.get_device(args.device_id) is None:
            raise CommandError(f"no device {args.device_id!r}")
        done = devices.forget_anchors(tx, args.device_id, datastores=datastores,
                                      only=args.datastore)
    if done:
        print(f"forgot the anchors of {args.device_id}: {', '.join(done)} "
              "(the next sync is slow)", file=out)
    else:
        print(f"{args.device_id} has no anchors to forget"
              + (f" in {args.datastore}" if args.datastore else ""), file=out)
