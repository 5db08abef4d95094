"""``omads-admin``: the operator's command line for accounts, devices and the database.

    omads-admin [--config PATH | --db PATH] user add NAME [--password P]
    omads-admin ... user passwd NAME [--password P]
    omads-admin ... user remove NAME
    omads-admin ... user enable|disable NAME
    omads-admin ... user list [--json]
    omads-admin ... user export|import NAME -d DS ...              (gateway/admin/items.py)
    omads-admin ... device list [--user NAME] [--json]
    omads-admin ... device show DEVICE [--json] | forget DEVICE [-d DS]  (gateway/admin/device.py)
    omads-admin ... device notify|notify-status|notify-setup ...   (gateway/admin/notify.py)
    omads-admin ... device sync DEVICE [--via obex:...]            (gateway/admin/obex.py)
    omads-admin ... admin add|passwd|remove|enable|disable|list    (gateway/admin/accounts.py)
    omads-admin ... db backup OUT                                  (gateway/admin/db.py)

Without ``--password`` the password is read from the terminal (asked twice) or, when
stdin is not a terminal, from the first line of stdin. Exit codes: 0 done, 1 the
operation failed (no such user, user exists, store error), 2 usage or configuration error.
Output closed early (``| head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from pathlib import Path
from typing import IO, Sequence

from gateway.admin import accounts, db, device, items, notify, obex
from gateway.admin.output import print_json
from gateway.admin.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, UsageProblem
from gateway.config import ConfigError, load_settings
from gateway.store.accounts import make_secret
from gateway.store.base import Account, Store, StoreError

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "CommandError", "UsageProblem",
           "build_parser", "run", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omads-admin", description="Manage omads-gateway accounts and devices.")
    parser.add_argument("--config", "-c", metavar="PATH",
                        help="the gateway's TOML configuration (its [store] path is used)")
    parser.add_argument("--db", metavar="PATH",
                        help="the SQLite database file (overrides the configuration)")
    areas = parser.add_subparsers(dest="area", metavar="{user,device,admin,db}", required=True)

    user = areas.add_parser("user", help="accounts").add_subparsers(
        dest="action", metavar="{add,passwd,remove,enable,disable,list,export,import}",
        required=True)
    for action, text in (("add", "create an account"), ("passwd", "set a password")):
        p = user.add_parser(action, help=text)
        p.add_argument("name")
        p.add_argument("--password", "-p",
                       help="the password (default: ask, or read a line from stdin)")
    for action, text in (("remove", "delete an account"), ("enable", "allow logins"),
                         ("disable", "refuse logins, keep the data")):
        user.add_parser(action, help=text).add_argument("name")
    user.add_parser("list", help="list accounts").add_argument(
        "--json", action="store_true", help="print JSON")
    items.add_commands(user)

    devices = areas.add_parser("device", help="devices that synced").add_subparsers(
        dest="action", required=True)
    device.add_commands(devices)
    notify.add_commands(devices)
    obex.add_commands(devices)
    accounts.add_commands(areas.add_parser("admin", help="admin web page accounts")
                          .add_subparsers(dest="action", required=True))
    db.add_commands(areas.add_parser("db", help="the database")
                    .add_subparsers(dest="action", required=True))
    return parser


def store_path(args: argparse.Namespace) -> str:
    if args.db:
        return args.db
    try:
        return load_settings(args.config).store.path
    except ConfigError as e:
        raise UsageProblem(str(e)) from None


def open_store(path: str, *, create: bool) -> Store:
    from gateway.store.sqlite.store import SQLiteStore
    p = Path(path).expanduser()
    if not create and not p.exists():
        raise CommandError(f"no database at {path} (start the gateway once, or add a user)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteStore(p)
    except (OSError, StoreError) as e:
        raise CommandError(f"cannot open the database {path}: {e}") from None


def read_password(args: argparse.Namespace, stdin: IO[str]) -> str:
    if args.password is not None:
        password = args.password
    elif stdin.isatty():
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the passwords differ")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("empty password")
    return password


def run(args: argparse.Namespace, store: Store, out: IO[str], password: str | None) -> None:
    """Execute one parsed command against an open store (``password`` for add/passwd)."""
    if args.area == "device" and args.action in notify.ACTIONS:
        notify.run(args, store, out)
        return
    if args.area == "device" and args.action == obex.ACTION:
        obex.sync_device(args, store, out)
        return
    if args.area == "device":
        device.run(args, store, out)
        return
    if args.area == "admin":
        accounts.run(args, store, out, password)
        return
    if args.area == "db":
        db.run(args, store, out)
        return
    if args.area == "user" and args.action in items.ACTIONS:
        items.run(args, store, out, device.settings_of(args))
        return
    with store.transaction() as tx:
        if args.area == "user":
            name = getattr(args, "name", None)
            account = tx.get_account(name) if name is not None else None
            if args.action == "add":
                if account is not None:
                    raise CommandError(f"user {name!r} exists (use: user passwd {name})")
                assert password is not None
                tx.put_account(Account(username=name, secret=make_secret(name, password)))
                print(f"added user {name}", file=out)
            elif args.action == "list":
                users = tx.list_accounts()
                if args.json:
                    devs = tx.list_devices()
                    print_json([{"name": a.username, "enabled": a.enabled,
                                 "devices": [d.device_id for d in devs
                                             if d.username == a.username]}
                                for a in users], out)
                    return
                for acc in users:
                    print(f"{acc.username}\t{'enabled' if acc.enabled else 'disabled'}",
                          file=out)
                if not users:
                    print("no users", file=out)
            elif account is None:
                raise CommandError(f"no user {name!r}")
            elif args.action == "passwd":
                assert password is not None
                tx.put_account(replace(account, secret=make_secret(name, password)))
                print(f"changed the password of {name}", file=out)
            elif args.action == "remove":
                tx.remove_account(name)
                print(f"removed user {name}", file=out)
            elif args.action in ("enable", "disable"):
                tx.put_account(replace(account, enabled=args.action == "enable"))
                print(f"{args.action}d user {name}", file=out)


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None,
         err: IO[str] | None = None, stdin: IO[str] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:   # argparse has printed the usage message
        return EXIT_OK if e.code == 0 else EXIT_USAGE
    try:
        path = store_path(args)
        password = None
        if args.area in ("user", "admin") and args.action in ("add", "passwd"):
            password = read_password(args, stdin)   # before the store is locked
        store = open_store(path, create=args.area in ("user", "admin") and args.action == "add")
        try:
            run(args, store, out, password)
        finally:
            store.close()
    except UsageProblem as e:
        print(f"omads-admin: {e}", file=err)
        return EXIT_USAGE
    except (CommandError, StoreError) as e:
        print(f"omads-admin: {e}", file=err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except BrokenPipeError:   # the reader went away (| head): stop quietly
        _quiet_stdout(out)
        return EXIT_OK
    try:
        out.flush()
    except BrokenPipeError:
        _quiet_stdout(out)
    return EXIT_OK


def _quiet_stdout(out: IO[str]) -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is silent."""
    if out is sys.stdout:
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
