"""``omads-sync``: the Data Sync client command.

    omads-sync --profile work [--mode slow]
    omads-sync --url URL --user U --password P --datastore contacts --store DIR [--mode MODE]
    omads-sync devinf --url URL ...            # device-info exchange only
    omads-sync listen --profile work           # wait for server alerts (SAN) and sync
    omads-sync bench --url URL --devices 50 --items 200

Exit codes (gateway/ds/client_errors.py): 0 ok, 2 configuration, 3 transport,
4 authentication, 5 protocol, 6 refused by the server, 7 local store, 8 suspended,
9 partial (some items refused), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.client import profiles
from gateway.client.report import Progress, summary
from gateway.client.sync import result_code, sync_profile
from gateway.ds.client.errors import ClientError, ConfigError
from gateway.ds.client.settings import MODE_NAMES


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="profile file (default: "
                   "$XDG_CONFIG_HOME/omads-sync/profiles.toml)")
    p.add_argument("--profile", help="a [profile.NAME] of the profile file")
    p.add_argument("--url", help="server URL (one-off sync)")
    p.add_argument("--obex", help="OBEX link instead of HTTP: tcp:HOST:PORT or serial:DEVICE")
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--auth", choices=sorted(profiles.AUTHS), default="md5",
                   help="hmac = syncml:auth-MAC in an x-syncml-hmac header (HTTP only)")
    p.add_argument("--encoding", choices=sorted(profiles.ENCODINGS), default="wbxml")
    p.add_argument("--device-id", default=None)
    p.add_argument("--datastore", default="contacts", help="the server's datastore URI")
    p.add_argument("--type", default="text/vcard", help="content type of the items")
    p.add_argument("--store", help="folder of items, or sqlite:PATH")
    p.add_argument("--state", help="client state file (anchors, maps, nonces)")
    p.add_argument("--ca-file", help="HTTPS: trust only the CA certificates in this PEM file")
    p.add_argument("--max-msg-size", type=int, default=150_000)
    p.add_argument("--mode", choices=sorted(MODE_NAMES), help="sync mode (default two-way)")
    p.add_argument("--resume", action="store_true", help="resume a suspended sync")
    p.add_argument("--progress", action="store_true", help="progress line even without a tty")
    p.add_argument("-v", "--verbose", action="store_true", help="dump every message to stderr")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per message")


def profile_from(args) -> profiles.Profile:
    if args.profile:
        if args.url or args.store:
            raise ConfigError("--profile and --url/--store are alternatives")
        return profiles.load(args.config or profiles.default_path(), args.profile,
                             mode=args.mode)
    if not (args.url or args.obex) or not args.store:
        raise ConfigError("give --profile NAME, or --url URL (or --obex LINK) and --store DIR")
    raw = {"url": args.url, "obex": args.obex, "user": args.user, "password": args.password,
           "auth": args.auth, "encoding": args.encoding, "max_msg_size": args.max_msg_size,
           "datastore": [{"remote": args.datastore, "store": args.store, "type": args.type,
                          "mode": args.mode or "two-way"}]}
    raw = {k: v for k, v in raw.items() if v is not None}
    if args.device_id:
        raw["device_id"] = args.device_id
    if args.ca_file:
        raw["ca_file"] = args.ca_file
    if args.state:
        raw["state"] = args.state
    return profiles.build("oneoff", raw)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.exit(run(argv))


def run(argv: list[str], *, stdout=None, stderr=None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    command = argv[0] if argv and argv[0] in ("devinf", "listen", "bench") else "sync"
    if command != "sync":
        argv = argv[1:]
    p = argparse.ArgumentParser(prog=f"omads-sync{'' if command == 'sync' else ' ' + command}",
                                description=__doc__.splitlines()[0])
    common_options(p)
    if command == "bench":
        from gateway.client.bench import add_options
        add_options(p)
    if command == "listen":
        from gateway.client.listen import add_options as listen_options
        listen_options(p)
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from twisted.internet import task
    outcome: dict = {}

    async def body(reactor):
        try:
            if command == "bench":
                from gateway.client.bench import bench
                outcome["code"] = await bench(reactor, args, stdout)
                return
            profile = profile_from(args)
            if command == "listen":
                from gateway.client.listen import listen
                outcome["code"] = await listen(reactor, profile, args, stdout, stderr)
                return
            progress = Progress(stderr, enabled=True if args.progress else None)
            session = await sync_profile(reactor, profile, resume=args.resume,
                                         devinf_only=command == "devinf", verbose=args.verbose,
                                         progress=progress, timeout=args.timeout,
                                         stderr=stderr)
            progress.close()
            if command == "devinf":
                stdout.write(devinf_text(session) + "\n")
            else:
                stdout.write(summary(session) + "\n")
            outcome["code"] = result_code(session)
        except ClientError as exc:
            stderr.write(f"omads-sync: {exc.label}: {exc}\n")
            outcome["code"] = exc.exit_code
        except KeyboardInterrupt:
            outcome["code"] = 130

    def react_main(reactor):
        from twisted.internet import defer
        return defer.ensureDeferred(body(reactor))
    try:
        task.react(react_main, [])
    except SystemExit as exc:
        return outcome.get("code", exc.code if isinstance(exc.code, int) else 1)
    return outcome.get("code", 1)


def devinf_text(session) -> str:
    devinf = session.server_devinf
    if devinf is None:
        return "the server sent no DevInf"
    lines = [f"server: {devinf.man or '?'} {devinf.mod or '?'} (DevID {devinf.dev_id}, "
             f"DevTyp {devinf.dev_typ}, DTD {devinf.ver_dtd})",
             f"large objects: {'yes' if devinf.support_large_objs else 'no'}; "
             f"NumberOfChanges: {'yes' if devinf.support_number_of_changes else 'no'}"]
    for ds in devinf.datastores:
        rx = ", ".join(f"{c.ct_type} {c.ver_ct}" for c in (ds.rx_pref, *ds.rx) if c)
        lines.append(f"datastore {ds.source_ref}: receives {rx or '-'}; "
                     f"sync types {' '.join(str(t) for t in ds.sync_cap)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
