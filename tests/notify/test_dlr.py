"""gateway/notify/dlr.py: the report URL and its token, callback parsing, and how the
reports of the parts add up."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.notify.dlr import (DLR_NAMES, DLRType, PartReport, ReportTarget, check_token,
                                make_target, outcome, parse_report, report_token)
from gateway.notify.errors import DLRDecodeError

SECRET = b"k" * 32


def test_token_binds_secret_notification_and_attempt():
    t = report_token(SECRET, 7, 1)
    assert len(t) == 32 and int(t, 16) >= 0
    assert check_token(SECRET, 7, 1, t)
    others = {report_token(SECRET, 8, 1), report_token(SECRET, 7, 2),
              report_token(b"x" * 32, 7, 1)}
    assert t not in others and len(others) == 3
    assert not check_token(SECRET, 7, 2, t)
    assert not check_token(SECRET, 7, 1, t[:-1] + ("0" if t[-1] != "0" else "1"))
    assert not check_token(SECRET, 7, 1, "é" * 32)


def test_report_url_keeps_kannel_escapes_and_names_the_part():
    target = make_target(base="http://gw.example:8081/prefix/", secret=SECRET,
                         notification_id=42, attempt=3)
    url = target.url(2)
    assert url.startswith("http://gw.example:8081/prefix/notify/dlr?")
    assert url.endswith("&status=%d&answer=%A&ts=%T")
    query = parse_qs(urlsplit(url).query.replace("%", "%25"))
    assert query["id"] == ["42"] and query["try"] == ["3"] and query["part"] == ["2"]
    assert query["token"] == [report_token(SECRET, 42, 3)]
    with pytest.raises(ValueError):
        target.url(0)
    with pytest.raises(ValueError):
        target.url(256)


def kannel_call(target: ReportTarget, part: int, status: str, answer: str = "ACK/",
                ts: str = "1795829349") -> dict[str, list[str]]:
    """The query Kannel makes of a report URL (%A URL-encoded), decoded as the HTTP server
    decodes it."""
    url = target.url(part).replace("%d", status).replace("%A", quote(answer, safe="")) \
        .replace("%T", ts)
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_parse_report_reads_what_kannel_sends():
    target = make_target(base="http://h:1", secret=SECRET, notification_id=9, attempt=1)
    r = parse_report(kannel_call(target, 1, "8"))
    assert (r.notification_id, r.attempt, r.part, r.status) == (9, 1, 1, DLRType.SMSC_ACCEPTED)
    assert r.answer == "ACK/" and r.time == 1795829349.0
    assert check_token(SECRET, 9, 1, r.token)
    r = parse_report(kannel_call(target, 3, "1", answer="", ts=""))
    assert r.status == 1 and r.answer == "" and r.time is None and r.part == 3
    r = parse_report(kannel_call(target, 1, "2", answer="NACK\x00/0x0000000b\nx" + "y" * 500))
    assert r.answer.startswith("NACK /0x0000000b x") and len(r.answer) == 200


GOOD = {"id": ["1"], "try": ["1"], "part": ["1"], "token": ["a" * 32], "status": ["1"]}


@pytest.mark.parametrize("change", [
    {"id": ["x"]}, {"id": ["0"]}, {"id": ["-1"]}, {"id": ["1", "2"]}, {"id": []},
    {"try": [""]}, {"part": ["0"]}, {"part": ["256"]}, {"status": ["%d"]},
    {"status": ["3"]}, {"status": ["32"]}, {"token": ["A" * 32]}, {"token": ["a" * 31]},
    {"ts": ["yesterday"]}, {"answer": ["x" * 2000]}, {"id": ["1" * 17]},
])
def test_parse_report_refuses_garbage(change):
    args = {**GOOD, **change}
    args = {k: v for k, v in args.items() if v != []}
    with pytest.raises(DLRDecodeError):
        parse_report(args)


@given(st.dictionaries(st.sampled_from(["id", "try", "part", "token", "status", "answer",
                                        "ts", "other"]),
                       st.lists(st.text(max_size=40), max_size=3)))
def test_parse_report_raises_only_decode_errors(args):
    try:
        r = parse_report(args)
    except DLRDecodeError:
        return
    assert r.status in DLR_NAMES and r.notification_id >= 1


def rep(part, status, answer="", time=0.0):
    return PartReport(part=part, status=status, answer=answer, time=time)


def test_one_part_intermediate_then_delivered():
    o = outcome(1, [rep(1, 8, "ACK/", 10.0)])
    assert o.state is None and o.summary == "accepted by the SMSC (ACK/)" and o.time == 10.0
    o = outcome(1, [rep(1, 8, "ACK/", 10.0), rep(1, 1, "", 11.0)])
    assert o.state == "delivered" and o.summary == "delivered to the phone" and o.time == 11.0
    # Kannel may report the final state before the SMSC one (measured): order is irrelevant.
    assert outcome(1, [rep(1, 1, "", 11.0), rep(1, 8, "ACK/", 12.0)]).state == "delivered"


def test_parts_deliver_only_together_and_fail_on_any():
    o = outcome(3, [rep(1, 1), rep(3, 1), rep(2, 8)])
    assert o.state is None
    assert o.summary == ("part 1/3: delivered to the phone; part 2/3: accepted by the SMSC; "
                         "part 3/3: delivered to the phone")
    assert outcome(3, [rep(1, 1), rep(2, 1), rep(3, 1)]).state == "delivered"
    o = outcome(3, [rep(1, 1), rep(2, 2, "expired")])
    assert o.state == "failed" and "part 2/3: not delivered to the phone (expired)" in o.summary
    assert "part 3/3: no report yet" in o.summary
    assert outcome(2, [rep(1, 16), rep(2, 1)]).state == "failed"
    assert outcome(1, [rep(1, 1, time=1.0), rep(1, 2, time=2.0)]).state == "failed"


def test_reports_for_parts_that_do_not_exist_do_not_count():
    assert outcome(1, [rep(2, 1), rep(0, 1)]).state is None
    with pytest.raises(ValueError):
        outcome(0, [])
