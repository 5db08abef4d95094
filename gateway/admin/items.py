"""``omads-admin user export|import``: a user's contacts or calendar as one file, for a
user who moves phones or servers.

    omads-admin … user export NAME -d DATASTORE -o FILE.vcf|FILE.ics
    omads-admin … user import NAME -d DATASTORE FILE.vcf|FILE.ics

Export writes every live item: vCards one after another (.vcf), calendar items as one
VCALENDAR with each VTIMEZONE once (.ics). Import splits such a file into items (a vCard
each; the VEVENT/VTODO/VJOURNAL components of one UID together, with the file's
VTIMEZONEs) and adds them in one transaction; an item whose UID is already stored
replaces it. Items written this way are server-side changes: devices get them on their
next sync.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import IO, Any

from gateway.admin.errors import CommandError
from gateway.ds import contentops

__all__ = ["ACTIONS", "add_commands", "run", "split_vcards", "split_calendar", "join_calendar"]

ACTIONS = ("export", "import")
_BLOCK = re.compile(rb"^BEGIN:(VCARD|VCALENDAR|VEVENT|VTODO|VJOURNAL|VTIMEZONE)\r?$",
                    re.IGNORECASE | re.MULTILINE)
_COMPONENTS = (b"VEVENT", b"VTODO", b"VJOURNAL")


def add_commands(user: Any) -> None:
    p = user.add_parser("export", help="write a user's items of one datastore to a file")
    p.add_argument("name")
    p.add_argument("--datastore", "-d", required=True, metavar="NAME")
    p.add_argument("--output", "-o", required=True, metavar="FILE.vcf|FILE.ics")
    p = user.add_parser("import", help="add the items of a .vcf or .ics file to a user")
    p.add_argument("name")
    p.add_argument("--datastore", "-d", required=True, metavar="NAME")
    p.add_argument("file", metavar="FILE.vcf|FILE.ics")


def _lines(data: bytes) -> list[bytes]:
    return data.replace(b"\r\n", b"\n").split(b"\n")


def _blocks(lines: list[bytes], name: bytes) -> list[list[bytes]]:
    """The top-level BEGIN:name ... END:name blocks among ``lines`` (nesting respected)."""
    out, current, depth = [], None, 0
    for line in lines:
        upper = line.strip().upper()
        if current is None:
            if upper == b"BEGIN:" + name:
                current, depth = [line], 1
            continue
        current.append(line)
        if upper.startswith(b"BEGIN:"):
            depth += 1
        elif upper.startswith(b"END:"):
            depth -= 1
            if depth == 0:
                out.append(current)
                current = None
    return out


def _join(lines: list[bytes]) -> bytes:
    return b"\r\n".join(line.rstrip(b"\r") for line in lines) + b"\r\n"


def split_vcards(data: bytes) -> list[bytes]:
    return [_join(b) for b in _blocks(_lines(data), b"VCARD")]


def _uid(block: list[bytes]) -> bytes | None:
    for line in block:
        if line.upper().startswith(b"UID:"):
            return line[4:].strip()
    return None


def split_calendar(data: bytes) -> list[bytes]:
    """One VCALENDAR per UID (the file's VTIMEZONEs in each that needs one)."""
    lines = _lines(data)
    items: list[bytes] = []
    for cal in _blocks(lines, b"VCALENDAR"):
        inner = cal[1:-1]
        header = [l for l in inner if not l.startswith((b" ", b"\t"))
                  and l.upper().startswith((b"VERSION:", b"PRODID:", b"CALSCALE:"))]
        zones = _blocks(inner, b"VTIMEZONE")
        groups: dict[bytes, list[list[bytes]]] = {}
        for name in _COMPONENTS:
            for comp in _blocks(inner, name):
                groups.setdefault(_uid(comp) or str(len(groups)).encode(), []).append(comp)
        for comps in groups.values():
            body = [l for c in comps for l in c]
            text = b"\n".join(body)
            needed = [z for z in zones if any(b"TZID=" + tz in text or b"TZID:" + tz in text
                                              for tz in [_tzid(z)] if tz)]
            items.append(_join([b"BEGIN:VCALENDAR", *(header or [b"VERSION:2.0"]),
                                *(l for z in needed for l in z), *body, b"END:VCALENDAR"]))
    return items


def _tzid(zone: list[bytes]) -> bytes | None:
    for line in zone:
        if line.upper().startswith(b"TZID:"):
            return line[5:].strip()
    return None


def join_calendar(items: list[bytes]) -> bytes:
    """One VCALENDAR holding every component of ``items``, each VTIMEZONE once."""
    zones: dict[bytes, list[bytes]] = {}
    comps: list[list[bytes]] = []
    version = b"VERSION:2.0"
    for data in items:
        for cal in _blocks(_lines(data), b"VCALENDAR"):
            inner = cal[1:-1]
            version = next((l for l in inner if l.upper().startswith(b"VERSION:")), version)
            for z in _blocks(inner, b"VTIMEZONE"):
                zones.setdefault(_tzid(z) or b"", z)
            for name in _COMPONENTS:
                comps.extend(_blocks(inner, name))
    return _join([b"BEGIN:VCALENDAR", version, b"PRODID:-//omads-gateway//export//EN",
                  *(l for z in zones.values() for l in z), *(l for c in comps for l in c),
                  b"END:VCALENDAR"])


def _kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".vcf", ".ics"):
        raise CommandError(f"{path}: the file must end in .vcf (contacts) or .ics (calendar)")
    return suffix


def _datastore(settings: Any, name: str) -> Any:
    found = next((ds for ds in settings.server.datastores if ds.matches(name)), None)
    if found is None:
        raise CommandError(f"unknown datastore {name!r}")
    return found


def run(args: Any, store: Any, out: IO[str], settings: Any) -> None:
    ds = _datastore(settings, args.datastore)
    with store.transaction() as tx:
        if tx.get_account(args.name) is None:
            raise CommandError(f"no user {args.name!r}")
    if args.action == "export":
        kind = _kind(args.output)
        with store.transaction() as tx:
            items = [it.data for it in tx.list_items(args.name, ds.name)]
        data = (b"".join(i if i.endswith(b"\n") else i + b"\r\n" for i in items)
                if kind == ".vcf" else join_calendar(items))
        try:
            Path(args.output).write_bytes(data if items else b"")
        except OSError as e:
            raise CommandError(f"cannot write {args.output}: {e.strerror or e}") from None
        print(f"exported {len(items)} items of {args.name}/{ds.name} to {args.output}",
              file=out)
        return
    kind = _kind(args.file)
    try:
        raw = Path(args.file).read_bytes()
    except OSError as e:
        raise CommandError(f"cannot read {args.file}: {e.strerror or e}") from None
    pieces = split_vcards(raw) if kind == ".vcf" else split_calendar(raw)
    if not pieces:
        raise CommandError(f"{args.file}: no {'vCard' if kind == '.vcf' else 'calendar item'} in it")
    added = replaced = 0
    now = time.time()
    with store.transaction() as tx:
        for data in pieces:
            ct = ("text/calendar" if kind == ".ics" else
                  "text/x-vcard" if b"VERSION:2.1" in data.upper() else "text/vcard")
            uid = contentops.item_uid(data, ct)
            old = tx.find_by_uid(args.name, ds.name, uid) if uid else None
            if old is not None:
                tx.replace_item(args.name, ds.name, old.guid, data=data, content_type=ct,
                                uid=uid, now=now, fingerprint=contentops.fingerprint(data))
                replaced += 1
            else:
                tx.add_item(args.name, ds.name, data=data, content_type=ct, uid=uid, now=now,
                            fingerprint=contentops.fingerprint(data))
                added += 1
    print(f"imported {len(pieces)} items into {args.name}/{ds.name}: {added} added, "
          f"{replaced} replaced", file=out)
