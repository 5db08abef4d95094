"""Per-item cost of the content layer on a typical contact (and a few others).

    .venv/bin/python bench/content.py [--number N]

Prints microseconds per call of extract_uid, content_key, parse, serialize,
3.0 -> 2.1 and 2.1 -> 3.0 conversion, same_content and merge, for a typical
vCard 3.0, a vCard 2.1 with a 200 kB photo and an iCalendar event; plus the
projected time for 20,000 contacts.
"""

from __future__ import annotations

import argparse
import base64
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.content import convert, merge, vcalendar, vcard, vformat  # noqa: E402

TYPICAL = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//bench//EN\r\nREV:20240101T000000Z\r\n"
    "UID:bench-000042\r\nN:Müller;Jürgen;;Dr.;\r\nFN:Dr. Jürgen Müller\r\n"
    "ORG:ACME GmbH;Sales\r\nTITLE:Key account manager\r\n"
    "TEL;TYPE=CELL:+49 170 1234567\r\nTEL;TYPE=WORK,VOICE:+49 30 987654-0\r\n"
    "EMAIL;TYPE=INTERNET:juergen.mueller@example.org\r\n"
    "ADR;TYPE=WORK:;;Hauptstraße 1;Berlin;;10115;Germany\r\n"
    "BDAY:1970-01-02\r\nCATEGORIES:Work,Customers\r\n"
    "NOTE:Met at the fair\\, wants a call-back\\nafter Easter\r\nEND:VCARD\r\n"
).encode()
EDITED = TYPICAL.replace(b"+49 170 1234567", b"+49 171 7654321").replace(b"Sales", b"Marketing")
_PHOTO = base64.b64encode(bytes(range(256)) * 800).decode()
BIG_21 = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Big;Photo\r\nUID:big-1\r\nTEL;CELL:+1 555 0100\r\n"
    "PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n "
    + "\r\n ".join(_PHOTO[i : i + 72] for i in range(0, len(_PHOTO), 72))
    + "\r\n\r\nEND:VCARD\r\n"
).encode()
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-1\r\n"
    "DTSTART:20240105T090000Z\r\nDTEND:20240105T100000Z\r\nSUMMARY:Stand-up\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\n"
    "DESCRIPTION:Stand-up\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()


def _us(func, number: int) -> float:
    best = min(timeit.repeat(func, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing run")
    args = parser.parse_args()
    n = args.number
    card = vformat.parse(TYPICAL)
    card21 = vcard.to_version(TYPICAL, "2.1")
    big = vformat.parse(BIG_21)
    cal = vformat.parse(EVENT)
    rows = [
        ("typical vCard 3.0 (%d B)" % len(TYPICAL), [
            ("extract_uid", lambda: vcard.extract_uid(TYPICAL)),
            ("item_uid (convert.py)", lambda: convert.item_uid(TYPICAL, "text/vcard")),
            ("content_key", lambda: vcard.content_key(TYPICAL, use_uid=False)),
            ("parse", lambda: vformat.parse(TYPICAL)),
            ("serialize", lambda: vformat.serialize(card)),
            ("convert 3.0 -> 2.1", lambda: convert.convert(TYPICAL, "text/vcard", "text/x-vcard")),
            ("convert 2.1 -> 3.0", lambda: convert.convert(card21, "text/x-vcard", "text/vcard")),
            ("same_content (equal bytes)", lambda: merge.same_content(TYPICAL, TYPICAL, "text/vcard")),
            ("same_content (3.0 vs 2.1)", lambda: merge.same_content(TYPICAL, card21, "text/vcard")),
            ("merge (edited copy)", lambda: merge.merge(TYPICAL, EDITED, "text/vcard", "client")),
        ]),
        ("vCard 2.1 with 200 kB photo (%d B)" % len(BIG_21), [
            ("extract_uid", lambda: vcard.extract_uid(BIG_21)),
            ("parse", lambda: vformat.parse(BIG_21)),
            ("serialize", lambda: vformat.serialize(big)),
            ("convert 2.1 -> 3.0", lambda: convert.convert(BIG_21, "text/x-vcard", "text/vcard")),
        ]),
        ("iCalendar event (%d B)" % len(EVENT), [
            ("extract_uid", lambda: vcalendar.extract_uid(EVENT)),
            ("parse", lambda: vformat.parse(EVENT)),
            ("serialize", lambda: vformat.serialize(cal)),
            ("convert 2.0 -> 1.0", lambda: convert.convert(EVENT, "text/calendar", "text/x-vcalendar")),
        ]),
    ]
    per_contact = {}
    for title, cases in rows:
        print(title)
        for name, func in cases:
            number = max(1, n // 100) if "200 kB" in title else n
            us = _us(func, number)
            if title.startswith("typical"):
                per_contact[name] = us
            print(f"  {name:30s} {us:10.1f} us")
    print("20,000 typical contacts:")
    for name in ("extract_uid", "content_key", "parse", "convert 3.0 -> 2.1", "merge (edited copy)"):
        print(f"  {name:30s} {per_contact[name] * 20000 / 1e6:10.2f} s")


if __name__ == "__main__":
    main()
