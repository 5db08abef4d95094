"""SMS TPDUs and user data headers: third-party vectors (Kannel, gammu), hand-computed
vectors from TS 23.040, concatenation and reassembly."""

from __future__ import annotations

import datetime as dt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import gsm7, sms, udh, wsp
from gateway.notify.errors import SMSDecodeError

# Kannel 'smsc = at' sending a WAP push to our fake modem (peers/notify-obex.md §2.3).
KANNEL = "0051000A9194214365870004A7130605040B8423F0010603C4AF85DEADBEEF00FF"
# gammu 1.42 'sendsms WAPINDICATOR' (same document): SMSC from AT+CSCA?, DCS F5, 1-of-1 concat.
GAMMU = ("079194710167000051000A91942143658700F5FF3B0B05040B8423F00003C00101010601AE02056A0045C6"
         "0B03687474703A2F2F3132372E302E302E312F73796E6300010353796E63206E6F77000101")


def test_kannel_submit_reproduced():
    """Our encoder writes Kannel's PDU byte for byte from the same WSP payload."""
    payload = bytes.fromhex("010603C4AF85DEADBEEF00FF")
    assert sms.wap_push_pdus(payload, "+4912345678", ref=0, validity=sms.VP_ONE_DAY) == [
        (KANNEL, 32)]


def test_gammu_submit_reproduced():
    """gammu's PDU, with its SMSC prefix, DCS 0xF5, VP 0xFF and forced 1-of-1 concatenation."""
    parsed = sms.decode_submit(bytes.fromhex(GAMMU))
    assert parsed.sca == "+491710760000"
    assert parsed.udh.concat == udh.Concat(ref=0xC0, total=1, seq=1)
    out = sms.wap_push_pdus(parsed.user_data, "+4912345678", ref=0xC0, validity=0xFF,
                            dcs=0xF5, sca="+491710760000", always_concat=True)
    assert out == [(GAMMU, 72)]


def test_hand_computed_submit():
    """A short SAN push to a national number, no validity period, fields per TS 23.040."""
    pdu, length = sms.wap_push_pdus(wsp.san_push(b"\xAB"), "0123456789", ref=0)[0]
    assert pdu == (
        "00"            # SMSC: use the modem's
        "41"            # first octet: UDHI 0x40 | MTI submit 0x01, no VP
        "00"            # TP-MR (the modem assigns it)
        "0A" "81"       # 10 digits, type unknown/ISDN
        "1032547698"    # 0123456789 in swapped semi-octets
        "00" "04"       # PID, DCS 8-bit data
        "0E"            # UDL 14 = 7 UDH + 7 data
        "0605040B8423F0"   # UDHL 6, IEI 05 len 4, dest 2948, src 9200
        "010603CEAF85AB"   # WSP push of the one-byte SAN
    )
    assert length == len(bytes.fromhex(pdu)) - 1


def test_odd_number_gets_f_filler():
    """An odd digit count pads the last semi-octet with F."""
    assert sms.encode_address("+123") == bytes((3, 0x91, 0x21, 0xF3))


def test_concatenation_matches_kannel_split():
    """200 bytes: 128 + 72, UDH 0B 05040B8423F0 0003 ref 02 seq (Kannel's fakesmsc output)."""
    payload = bytes(range(200))
    parts = udh.split_user_data(payload, ref=1)
    assert [h.encode().hex().upper() for h, _ in parts] == [
        "0B05040B8423F0000301 0201".replace(" ", ""), "0B05040B8423F00003010202"]
    assert [len(c) for _, c in parts] == [128, 72]
    pdus = sms.wap_push_pdus(payload, "+4912345678", ref=1)
    # TPDU = first, MR, DA (2 + 5), PID, DCS, UDL = 12 octets before the user data
    assert [n for _, n in pdus] == [12 + 140, 12 + 84]


def test_sixteen_bit_reference():
    """IEI 08 carries a 2-octet reference; 127 payload octets fit beside the 13-octet UDH."""
    parts = udh.split_user_data(bytes(300), ref=0x1234, ref16=True)
    assert parts[0][0].encode().hex().upper() == "0C05040B8423F0080412340301"
    assert [len(c) for _, c in parts] == [127, 127, 46]
    assert parts[2][0].concat == udh.Concat(ref=0x1234, total=3, seq=3)


def test_exact_fit_is_one_part():
    assert len(udh.split_user_data(bytes(133), ref=0)) == 1
    assert len(udh.split_user_data(bytes(134), ref=0)) == 2


def test_too_many_parts():
    with pytest.raises(ValueError):
        udh.split_user_data(bytes(128 * 256), ref=0)


# An SMS-DELIVER of part 1/2 of a WAP push, built by hand from TS 23.040 §9.2.2.1.
DELIVER = bytes.fromhex(
    "00"                # no SMSC address
    "44"                # MTI deliver 00, TP-MMS 0x04 (no more messages), UDHI 0x40
    "0A91" "9421436587"  # originator +4912345678
    "00" "04"           # PID, DCS 8-bit
    "21011331546540"    # SCTS 2012-10-31 13:45:56 in swapped BCD, zone +4 quarters
    "0F"                # UDL 15
    "0B05040B8423F0" "00037F0201"            # ports 2948/9200, concat ref 0x7F 1 of 2
    "414243"            # "ABC"
)


def test_hand_computed_deliver():
    msg = sms.decode_deliver(DELIVER)
    assert msg.originator == "+4912345678"
    assert msg.timestamp == dt.datetime(2012, 10, 31, 13, 45, 56,
                                        tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert msg.udh.ports == (2948, 9200)
    assert msg.udh.concat == udh.Concat(ref=0x7F, total=2, seq=1)
    assert msg.user_data == b"ABC"
    assert msg.encoding == "8bit"
    assert not msg.more_messages
    assert sms.encode_scts(msg.timestamp) == DELIVER[11:18]


def test_seven_bit_deliver():
    """The classic 'hellohello' SMS-DELIVER (7-bit, SMSC +27381000015, national sender)."""
    pdu = bytes.fromhex("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    msg = sms.decode_deliver(pdu)
    assert msg.sca == "+27381000015"
    assert msg.originator == "27838890001"
    assert msg.text() == "hellohello"
    assert msg.timestamp == dt.datetime(1999, 3, 29, 15, 16, 59,
                                        tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_seven_bit_with_udh_fill_bits():
    """7-bit text after a 6-octet UDH starts after one fill bit (TS 23.040 §9.2.3.24)."""
    septets = gsm7.encode_gsm7("Hi [x]")
    hdr = udh.UserDataHeader(elements=(udh.concat_element(9, 1, 1),)).encode()   # 6 octets
    assert len(hdr) == 6
    packed = gsm7.pack_septets(septets, fill_bits=1)      # 48 bits + 1 fill = 7 septets
    udl = 7 + len(septets)
    head = bytes.fromhex("0040" "0A919421436587" "0000" "21011331546540")
    pdu = head + bytes((udl,)) + hdr + packed
    msg = sms.decode_deliver(pdu)
    assert msg.text() == "Hi [x]"
    assert msg.udh.concat == udh.Concat(ref=9, total=1, seq=1)


def test_alphanumeric_originator():
    """TON 101: the address is GSM 7-bit packed text."""
    name = gsm7.pack_septets(gsm7.encode_gsm7("Omads"))
    pdu = bytes((0x00, 0x04, len(name) * 2, 0xD0)) + name + bytes.fromhex(
        "0004" "21011331546540" "01" "FF")
    assert sms.decode_deliver(pdu).originator == "Omads"


def test_submit_is_not_deliver():
    with pytest.raises(SMSDecodeError):
        sms.decode_deliver(bytes.fromhex(KANNEL))
    with pytest.raises(SMSDecodeError):
        sms.decode_submit(DELIVER)


@pytest.mark.parametrize("cut", range(1, len(DELIVER)))
def test_truncated_deliver(cut):
    with pytest.raises(SMSDecodeError):
        sms.decode_deliver(DELIVER[:cut])


def test_bad_scts():
    bad = bytearray(DELIVER)
    bad[12] = 0x31      # month 13
    with pytest.raises(SMSDecodeError) as info:
        sms.decode_deliver(bytes(bad))
    assert info.value.offset == 11


@given(st.binary(max_size=180))
@settings(max_examples=500)
def test_arbitrary_bytes_raise_only_decode_error(data):
    for fn in (sms.decode_deliver, sms.decode_submit):
        try:
            fn(data)
        except SMSDecodeError:
            pass


def test_decode_hex():
    assert sms.decode_hex("0A0b") == b"\x0a\x0b"
    with pytest.raises(SMSDecodeError):
        sms.decode_hex("0G")


# -- reassembly ------------------------------------------------------------------------------


def submit_parts(payload: bytes, ref: int, ref16: bool) -> list[sms.SmsSubmit]:
    return [sms.decode_submit(bytes.fromhex(p))
            for p, _ in sms.wap_push_pdus(payload, "+4912345678", ref=ref, ref16=ref16)]


@given(st.binary(max_size=3000), st.integers(0, 255), st.booleans(), st.randoms())
@settings(max_examples=150)
def test_split_then_reassemble(payload, ref, ref16, rnd):
    """Every part is at most 140 octets of user data; any arrival order gives the payload."""
    parts = submit_parts(payload, ref, ref16)
    assert all(len(p.udh.encode()) + len(p.user_data) <= 140 for p in parts)
    rnd.shuffle(parts)
    r = udh.Reassembler()
    results = [r.add(sender=p.destination, udh=p.udh, data=p.user_data, now=0.0) for p in parts]
    done = [x for x in results if x is not None]
    assert len(done) == 1 and results[-1] is not None
    assert done[0].data == payload
    assert done[0].ports == (2948, 9200)
    assert r.pending == 0


def test_interleaved_references_and_senders():
    a = submit_parts(bytes([1]) * 300, 5, False)
    b = submit_parts(bytes([2]) * 300, 5, False)
    r = udh.Reassembler()
    out = []
    for pa, pb in zip(a, b):
        out.append(r.add(sender="A", udh=pa.udh, data=pa.user_data, now=0.0))
        out.append(r.add(sender="B", udh=pb.udh, data=pb.user_data, now=0.0))
    assert [o.data[0] for o in out if o] == [1, 2]


def test_pending_references_are_bounded():
    """Past max_pending references the oldest is dropped; expire() drops stale ones."""
    r = udh.Reassembler(max_pending=2, max_age=10)
    parts = {ref: submit_parts(bytes(200), ref, False) for ref in (1, 2, 3)}
    for n, ref in enumerate((1, 2, 3)):
        assert r.add(sender="A", udh=parts[ref][0].udh, data=b"x", now=n) is None
    assert r.pending == 2 and r.dropped == 1
    # ref 1 was dropped: its second part starts a new entry and pushes out ref 2
    assert r.add(sender="A", udh=parts[1][1].udh, data=b"y", now=3) is None
    assert r.pending == 2 and r.dropped == 2
    assert r.next_deadline() == 12          # ref 3, first seen at 2
    assert r.expire(12.5) == 1
    assert r.pending == 1


def test_single_part_passes_through():
    r = udh.Reassembler()
    msg = sms.decode_deliver(bytes.fromhex("0004" "0A919421436587" "0004" "21011331546540"
                                           "02" "ABCD"))
    got = r.add(sender=msg.originator, udh=msg.udh, data=msg.user_data, now=0.0)
    assert got.data == b"\xAB\xCD" and got.ports is None


def test_bad_sequence_number():
    bad = udh.UserDataHeader(elements=(udh.concat_element(1, 2, 3),))
    with pytest.raises(SMSDecodeError):
        udh.Reassembler().add(sender="A", udh=bad, data=b"", now=0.0)


def test_gsm7_tables():
    assert len(gsm7.DEFAULT_ALPHABET) == 128
    text = "@£$ Hello {€}"
    assert gsm7.decode_gsm7(gsm7.unpack_septets(gsm7.pack_septets(gsm7.encode_gsm7(text)),
                                                len(gsm7.encode_gsm7(text)))) == text
    with pytest.raises(ValueError):
        gsm7.encode_gsm7("☃")


def test_trailing_bytes_after_user_data_ignored():
    """TP-UDL bounds the user data; extra bytes after it do not change the result."""
    assert sms.decode_deliver(DELIVER + b"\x00\xff") == sms.decode_deliver(DELIVER)
