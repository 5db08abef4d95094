"""``omads-admin admin add|passwd|remove|enable|disable|list``: the accounts of the admin
web pages (apart from the sync accounts of ``user``). Passwords are stored as PBKDF2
hashes (gateway/store/ops.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import IO, Any

from gateway.admin.errors import CommandError
from gateway.admin.output import print_json, when
from gateway.store.ops import AdminAccount, hash_password, ops_store

__all__ = ["add_commands", "run"]


def add_commands(admin: Any) -> None:
    for action, text in (("add", "create an admin account"), ("passwd", "set its password")):
        p = admin.add_parser(action, help=text)
        p.add_argument("name")
        p.add_argument("--password", "-p",
                       help="the password (default: ask, or read a line from stdin)")
    for action, text in (("remove", "delete an admin account"), ("enable", "allow its login"),
                         ("disable", "refuse its login")):
        admin.add_parser(action, help=text).add_argument("name")
    admin.add_parser("list", help="list admin accounts").add_argument(
        "--json", action="store_true", help="print JSON")


def run(args: Any, store: Any, out: IO[str], password: str | None) -> None:
    ops = ops_store(store)
    ops.ensure_schema()
    with ops.transaction() as (_tx, log):
        if args.action == "list":
            admins = log.list_admins()
            if args.json:
                print_json([{"name": a.name, "enabled": a.enabled, "created": a.created}
                            for a in admins], out)
                return
            for a in admins:
                print(f"{a.name}\t{'enabled' if a.enabled else 'disabled'}\t{when(a.created)}",
                      file=out)
            if not admins:
                print("no admin accounts", file=out)
            return
        account = log.get_admin(args.name)
        if args.action == "add":
            if account is not None:
                raise CommandError(f"admin {args.name!r} exists (use: admin passwd {args.name})")
            assert password is not None
            log.put_admin(AdminAccount(name=args.name, secret=hash_password(password),
                                       created=time.time()))
            print(f"added admin {args.name}", file=out)
            return
        if account is None:
            raise CommandError(f"no admin {args.name!r}")
        if args.action == "passwd":
            assert password is not None
            log.put_admin(replace(account, secret=hash_password(password)))
            print(f"changed the password of admin {args.name}", file=out)
        elif args.action == "remove":
            log.remove_admin(args.name)
            print(f"removed admin {args.name}", file=out)
        else:
            log.put_admin(replace(account, enabled=args.action == "enable"))
            print(f"{args.action}d admin {args.name}", file=out)
