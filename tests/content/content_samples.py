"""vObjects lifted out of the real SyncML captures under tests/fixtures."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.locations import FIXTURES

TRACES = FIXTURES / "public-traces"
SYNCEVOLUTION = FIXTURES / "syncevolution"

_DATA = re.compile(rb"<Data>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</Data>", re.S)


def _objects(path: Path) -> list[bytes]:
    return [m.group(1) for m in _DATA.finditer(path.read_bytes()) if m.group(1).startswith(b"BEGIN:")]


def funambol_large_vcard() -> bytes:
    """The vCard 2.1 that my.funambol.com split over two messages (Meta Size 5614):
    QP NOTE, folded base64 PHOTO, blank lines between all lines."""
    first = (TRACES / "funambol-cpp-sdk/my-funambol-com-v12-pkg4-large-object-first-chunk-moredata.xml").read_bytes()
    last = (TRACES / "funambol-cpp-sdk/my-funambol-com-v12-pkg4-large-object-last-chunk-delete.xml").read_bytes()
    head = re.search(rb"<Data>(BEGIN:VCARD.*?)</Data>", first, re.S).group(1)
    tail = re.search(rb"<Data>(.*?)</Data>", last[last.index(b"<Replace>") :], re.S).group(1)
    return head + tail


def p900_vcalendars() -> list[bytes]:
    """Three vCalendar 1.0 items (2 VEVENT, 1 VTODO) from a Sony Ericsson P900."""
    return _objects(TRACES / "horde-syncml/se-p900-v10-pkg3-sync-replace-vcal.xml")


def synthesis_vtodo() -> bytes:
    return _objects(TRACES / "horde-syncml/synthesis-palm-std-2.5-v11-pkg3-replace-vtodo-cdata.xml")[0]


def syncevolution_vcards() -> list[bytes]:
    """vCard 3.0 items sent by SyncEvolution 2.0 (slow sync)."""
    return _objects(SYNCEVOLUTION / "sessions/xml-basic-slow/02-client.xml")
