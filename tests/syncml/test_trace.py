"""omads-trace: every capture decodes; XML encodes to WBXML that libwbxml accepts; bad input exits 1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from gateway.syncml import codec, trace
from tests.syncml.captures import FIXTURES, all_captures, ident, textual, xml_captures


def _trace(argv, capsysbinary):
    rc = trace.run(argv)
    out, err = capsysbinary.readouterr()
    return rc, out, err


@pytest.mark.parametrize("path", all_captures(), ids=ident)
def test_every_capture_decodes_to_indented_xml(path, capsysbinary):
    rc, out, err = _trace([str(path), "--model"], capsysbinary)
    assert rc == 0, err
    root = etree.fromstring(out, etree.XMLParser(resolve_entities=False, no_network=True))
    assert etree.QName(root).localname in ("SyncML", "DevInf")
    assert b"\n  <" in out  # indented
    # The printed XML is the same message.
    kind = codec.WBXML if path.suffix == ".wbxml" else codec.XML
    original = codec.decode_message(path.read_bytes(), kind)
    printed = codec.decode_message(out, codec.XML)
    assert textual(printed.header) == textual(original.header)
    assert len(printed.commands) == len(original.commands)


@pytest.mark.interop
@pytest.mark.parametrize("path", xml_captures()[:12], ids=ident)
def test_to_wbxml_is_accepted_by_libwbxml(path, tmp_path, capsysbinary):
    out_file = tmp_path / "msg.wbxml"
    rc, _, err = _trace([str(path), "--to-wbxml", "-o", str(out_file)], capsysbinary)
    assert rc == 0, err
    wbxml2xml = shutil.which("wbxml2xml")
    assert wbxml2xml, "libwbxml2-utils must be installed (make test installs it)"
    res = subprocess.run([wbxml2xml, "-o", str(tmp_path / "back.xml"), str(out_file)],
                         capture_output=True, timeout=30)
    assert res.returncode == 0, res.stderr
    back = codec.decode_message(out_file.read_bytes(), codec.WBXML)
    assert back.header == codec.decode_message(path.read_bytes(), codec.XML).header


@pytest.mark.parametrize("data", [b"", b"garbage\n", b"<SyncML><SyncHdr>", b"\x02\xa4\x01\x6a\x00\x6d",
                                  b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])
def test_bad_input_exits_1_with_one_line(data, tmp_path, capsysbinary):
    f = tmp_path / "bad"
    f.write_bytes(data)
    rc, out, err = _trace([str(f)], capsysbinary)
    assert rc == 1
    assert out == b""
    assert err.count(b"\n") == 1 and err.startswith(b"omads-trace: ")


def test_missing_file(capsysbinary, tmp_path):
    rc, _, err = _trace([str(tmp_path / "nope")], capsysbinary)
    assert rc == 1 and b"nope" in err


def test_console_script_reads_stdin():
    script = Path(sys.executable).with_name("omads-trace")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "gateway.syncml.trace"]
    data = (FIXTURES / "syncevolution/first-message/wbxml-md5-slow.wbxml").read_bytes()
    res = subprocess.run(cmd + ["-"], input=data, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert b"<LocURI>contacts</LocURI>" in res.stdout
