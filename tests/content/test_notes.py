"""Notes: text/plain <-> vNote 1.1 and the convert entry point."""

from __future__ import annotations

import pytest

from gateway.content.convert import content_family, convert, item_uid, normalise_type
from gateway.content.errors import ContentError
from gateway.content.notes import note_text, plain_to_vnote, vnote_to_plain
from gateway.content.vformat import parse

SE_VNOTE = (
    b"BEGIN:VNOTE\r\nVERSION:1.1\r\nX-IRMC-LUID:000100000014\r\n"
    b"BODY;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Einkauf:=0D=0AMilch=0D=0AK=C3=A4se\r\n"
    b"END:VNOTE\r\n"
)


def test_vnote_to_plain():
    assert vnote_to_plain(SE_VNOTE) == "Einkauf:\r\nMilch\r\nKäse".encode()
    assert convert(SE_VNOTE, "text/x-vnote", "text/plain") == "Einkauf:\r\nMilch\r\nKäse".encode()


def test_summary_only_vnote():
    assert vnote_to_plain(b"BEGIN:VNOTE\nVERSION:1.1\nSUMMARY:just a title\nEND:VNOTE\n") == b"just a title"


def test_plain_to_vnote_and_back():
    text = "\n  Call Bob; re: invoice\nline two é\n".encode()
    out = plain_to_vnote(text)
    note = parse(out)
    assert note.name == "VNOTE" and note.version == "1.1"
    assert note.value("SUMMARY") == "Call Bob; re: invoice"
    body = note.first("BODY")
    assert body.encoding == "QUOTED-PRINTABLE" and body.charset == "UTF-8"
    assert vnote_to_plain(out) == text.replace(b"\n", b"\r\n")
    assert convert(text, "text/plain", "text/x-vnote") == out


def test_plain_single_line_and_latin1():
    out = plain_to_vnote(b"caf\xe9")
    assert parse(out).value("BODY") == "café"
    assert parse(out).first("BODY").encoding is None
    assert b"BODY;CHARSET=UTF-8:caf\xc3\xa9\r\n" in out


def test_declared_types_that_lie():
    assert convert(SE_VNOTE, "text/plain", "text/x-vnote") == SE_VNOTE
    assert convert(b"plain words", "text/x-vnote", "text/plain") == b"plain words"


def test_note_uid():
    assert item_uid(SE_VNOTE, "text/x-vnote") == "000100000014"
    assert item_uid(b"hello", "text/plain") is None


def test_note_text_rejects_other_components():
    with pytest.raises(ContentError):
        note_text(parse(b"BEGIN:VCARD\nEND:VCARD\n"))


def test_convert_table():
    assert convert(b"anything", "text/x-vcard", "TEXT/X-VCARD; charset=UTF-8") == b"anything"
    assert normalise_type("Text/Calendar; charset=utf-8") == "text/calendar"
    assert content_family("text/directory") == ("vcard", "3.0")
    with pytest.raises(ContentError):
        convert(b"x", "text/plain", "text/vcard")
    with pytest.raises(ContentError):
        convert(b"x", "application/octet-stream", "text/vcard")
    with pytest.raises(ContentError):
        item_uid(b"x", "image/png")
