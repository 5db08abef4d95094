"""The one AT line reader (gateway/at.py) that the OBEX preamble and the GSM modem share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.at import FinalResult, LineBuffer, final_result


def lines_of(buf: LineBuffer, **kw) -> list[str]:
    out = []
    while (line := buf.next_line(**kw)) is not None:
        out.append(line)
    return out


def test_lines_end_at_cr_or_lf_and_empty_ones_are_skipped():
    buf = LineBuffer()
    buf.feed(b"ATZ\rAT+GMI\r\n\r\nOK\n \x00ATE0\t\r\nhalf")
    assert lines_of(buf) == ["ATZ", "AT+GMI", "OK", "ATE0"]
    assert len(buf) == 4 and buf.take_rest() == b"half" and len(buf) == 0


@given(st.lists(st.sampled_from([b"AT", b"OK", b"+CMGS: 3", b"\r", b"\n", b"\r\n", b" "]),
                max_size=30))
def test_byte_by_byte_gives_the_same_lines(parts):
    data = b"".join(parts) + b"\r"
    whole, bytewise = LineBuffer(), LineBuffer()
    whole.feed(data)
    got = []
    for byte in data:
        bytewise.feed(bytes([byte]))
        got += lines_of(bytewise)
    assert got == lines_of(whole)


def test_wait_for_lf_holds_a_final_cr():
    buf = LineBuffer()
    buf.feed(b"\r\nCONNECT\r")
    assert buf.next_line(wait_for_lf=True) is None
    assert buf.next_line() == "CONNECT"
    buf.feed(b"OK\r\n\x80\x00")
    assert buf.next_line(wait_for_lf=True) == "OK" and buf.take_rest() == b"\x80\x00"


def test_prompt_first_byte_and_discard():
    buf = LineBuffer()
    buf.feed(b"\r\n> ")
    assert buf.first_byte() == ord(">")
    assert buf.take_prompt() and len(buf) == 0
    buf.feed(b"+CMTI: 1\r\n> ")
    assert not buf.take_prompt()                     # a line comes first
    assert buf.next_line() == "+CMTI: 1" and buf.take_prompt()
    assert buf.first_byte() is None
    buf.feed(b"0123456789")
    buf.discard(keep=4)
    assert buf.take_rest() == b"6789"
    buf.feed(b"xy")
    buf.discard(keep=10)
    assert buf.take_rest() == b"xy"


@pytest.mark.parametrize("line,result", [
    ("OK", FinalResult(ok=True, line="OK")),
    ("ok", FinalResult(ok=True, line="ok")),
    ("ERROR", FinalResult(ok=False, line="ERROR")),
    ("+CMS ERROR: 500", FinalResult(ok=False, line="+CMS ERROR: 500", code=500)),
    ("+CME ERROR: 16", FinalResult(ok=False, line="+CME ERROR: 16", code=16)),
    ("+CME ERROR: SIM PIN required",
     FinalResult(ok=False, line="+CME ERROR: SIM PIN required")),
    ("+CMGS: 4", None), ("CONNECT", None), ("OKAY", None), ("NO CARRIER", None)])
def test_final_result(line, result):
    assert final_result(line) == result
