"""SAN package 0: real Buteo captures, a hand-built vector, digests, round trips, legacy form."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notify import san as s
from gateway.notify.errors import SANDecodeError
from gateway.notify.tables import san_content_code
from gateway.syncml import codec
from gateway.syncml.devinf import DataStore, DevInf
from gateway.syncml.errors import RemoteProtocolError
from gateway.syncml.model import Alert
from tests.syncml.captures import FIXTURES

BUTEO = FIXTURES / "public-traces" / "buteo-syncml"
CAPTURES = sorted(BUTEO.glob("*.san"))
BUTEO_ID = "PC Suite Data Sync"     # Buteo's SANTest: this server id, empty password and nonce


def load(path: Path) -> bytes:
    """The SAN bytes of a capture (an ``xxd`` text dump is read back to bytes too)."""
    raw = path.read_bytes()
    if re.match(rb"0{8}: ", raw):
        return bytes.fromhex("".join(line[10:49].decode() for line in raw.splitlines()))
    return raw


def test_captures_present():
    """Both Buteo SAN captures are where the fixtures README says."""
    assert len(CAPTURES) == 2


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_capture_decodes_and_reencodes(path):
    """A real SAN decodes to the fields Buteo's test expects and re-encodes to equal bytes."""
    data = load(path)
    san = s.decode_san(data)
    assert san.version == 12
    assert san.ui_mode is s.UIMode.BACKGROUND
    assert san.initiator is s.Initiator.SERVER
    assert san.session_id == 0
    assert san.server_id == BUTEO_ID
    assert len(san.syncs) == 1
    assert san.syncs[0].sync_type == 206
    assert san.syncs[0].content_type == 0
    assert san.syncs[0].server_uri in ("Calendar", "Contacts")
    assert san.vendor == b""
    assert s.encode_san(san, password="", nonce=b"") == data
    assert s.verify_san(data, password="", nonce=b"")


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_capture_names_the_datastore_of_its_file(path):
    """Each Buteo capture alerts the datastore its file is named after (calendar or contacts)."""
    san = s.decode_san(load(path))
    kind = path.stem.rsplit("-", 1)[-1]
    assert san.syncs[0].server_uri.lower() == kind


def test_buteo_contacts_generator_case_verifies():
    """Buteo's generator case (Contacts, empty password) yields a SAN whose digest checks."""
    san = s.SAN(server_id=BUTEO_ID, ui_mode=s.UIMode.BACKGROUND,
                syncs=(s.SANSync(sync_type=206, server_uri="Contacts"),))
    data = s.encode_san(san, password="", nonce=b"")
    assert data[16:] == bytes.fromhex("031800000000001250432053756974652044617461205379"
                                      "6e6310600000000843 6f6e7461637473".replace(" ", ""))
    assert s.verify_san(data, password="")
    assert not s.verify_san(data, password="x")


# A hand-built vector from the layout in omads-protocol.md §6.1.
HAND_NOTIFICATION = bytes.fromhex(
    "03"        # version 12 = 0b00000011|00: bits 9..2
    "28"        # version bits 1..0 = 00, ui-mode 2 (informative) << 4, initiator 1 << 3
    "000000"    # future use
    "1234"      # session id
    "03" "737276"            # server id length 3, "srv"
    "10"        # num-syncs 1, future 0
    "70"        # sync type 207 - 200 = 7 << 4
    "000007"    # content type 0x07 text/x-vcard
    "04" "63617264"          # server URI length 4, "card"
)


def reference_digest(server_id: bytes, password: bytes, nonce: bytes, body: bytes) -> bytes:
    b64md5 = lambda b: base64.b64encode(hashlib.md5(b).digest())  # noqa: E731
    return hashlib.md5(b64md5(server_id + b":" + password) + b":" + nonce + b":"
                       + b64md5(body)).digest()


def test_hand_built_vector():
    """Encoding the fields gives the bytes worked out from the spec layout."""
    san = s.SAN(server_id="srv", ui_mode=s.UIMode.INFORMATIVE, session_id=0x1234,
                syncs=(s.SANSync(sync_type=207, content_type=san_content_code("text/vcard"),
                                 server_uri="card"),))
    data = s.encode_san(san, password="secret", nonce=b"N0nce")
    assert data[16:] == HAND_NOTIFICATION
    assert data[:16] == reference_digest(b"srv", b"secret", b"N0nce", HAND_NOTIFICATION)
    assert s.decode_san(data) == san


def test_wrong_digest_fails_verify():
    """A SAN verifies only with the right password and nonce, and not once tampered with."""
    san = s.SAN(server_id="srv", syncs=(s.SANSync(server_uri="Contacts"),))
    data = s.encode_san(san, password="pw", nonce=b"n1")
    assert s.verify_san(data, password="pw", nonce=b"n1")
    assert not s.verify_san(data, password="pw", nonce=b"n2")
    assert not s.verify_san(data, password="other", nonce=b"n1")
    assert not s.verify_san(data, password="pw", nonce=b"n1", server_id="someone")
    tampered = data[:-1] + b"X"
    assert not s.verify_san(tampered, password="pw", nonce=b"n1")


def test_no_credentials_gives_zero_digest():
    """password=None writes the all-zero digest SANLIB uses without credentials."""
    data = s.encode_san(s.SAN(server_id="a"), password=None)
    assert data[:16] == bytes(16)


def test_trailing_bytes_are_vendor_data():
    """Bytes after the last sync are kept as the vendor-specific part."""
    data = HAND_NOTIFICATION + b"\x01\x02"
    assert s.decode_san(bytes(16) + data).vendor == b"\x01\x02"


@pytest.mark.parametrize("cut", range(16, 16 + len(HAND_NOTIFICATION)))
def test_truncation_raises_decode_error(cut):
    """Every truncation inside the header or a sync raises SANDecodeError with an offset."""
    with pytest.raises(SANDecodeError) as info:
        s.decode_san((bytes(16) + HAND_NOTIFICATION)[:cut])
    assert isinstance(info.value, RemoteProtocolError)
    assert info.value.offset is not None


def test_bad_sync_type_rejected():
    """A sync type outside 206..210 is a decode error."""
    bad = bytearray(bytes(16) + HAND_NOTIFICATION)
    bad[16 + 12] = 0x10     # sync type byte (after 11 header bytes and num-syncs): 201
    with pytest.raises(SANDecodeError):
        s.decode_san(bytes(bad))


def test_size_limit():
    with pytest.raises(SANDecodeError):
        s.decode_san(bytes(5000))


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).filter(
    lambda t: len(t.encode()) <= 255)
syncs = st.builds(s.SANSync, sync_type=st.integers(206, 210),
                  content_type=st.integers(0, (1 << 24) - 1), server_uri=text)
sans = st.builds(s.SAN, server_id=text, version=st.integers(10, 1023),
                 ui_mode=st.sampled_from(s.UIMode), initiator=st.sampled_from(s.Initiator),
                 session_id=st.integers(0, 0xFFFF), syncs=st.lists(syncs, max_size=15).map(tuple),
                 vendor=st.binary(max_size=20))


@given(sans, st.text(max_size=10), st.binary(max_size=10))
@settings(max_examples=200)
def test_round_trip(san, password, nonce):
    """decode(encode(x)) == x, and the digest verifies."""
    data = s.encode_san(san, password=password, nonce=nonce)
    assert s.decode_san(data) == san
    assert s.verify_san(data, password=password, nonce=nonce)


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_arbitrary_bytes_raise_only_decode_error(data):
    """Any input decodes or raises SANDecodeError."""
    try:
        s.decode_san(data)
    except SANDecodeError:
        pass


def test_invalid_values_rejected_on_construction():
    with pytest.raises(ValueError):
        s.SAN(server_id="x" * 256)
    with pytest.raises(ValueError):
        s.SANSync(sync_type=199)
    with pytest.raises(ValueError):
        s.SAN(server_id="x", syncs=(s.SANSync(),) * 16)


# -- legacy 1.1 form and the choice between forms ------------------------------------------------


def test_legacy_message_wbxml_round_trip():
    """The 1.1 SAN is a SyncML 1.1 message: Target '/', Source server id, Alert + Items."""
    san = s.SAN(server_id="omads", session_id=7, syncs=(
        s.SANSync(sync_type=206, content_type=0x07, server_uri="contacts"),
        s.SANSync(sync_type=206, content_type=0x06, server_uri="calendar"),
        s.SANSync(sync_type=209, server_uri="notes")))
    msg = s.legacy_san_message(san)
    for ctype in (codec.WBXML, codec.XML):
        back = codec.decode_message(codec.encode_message(msg, ctype), ctype)
        assert back.header.ver_dtd == "1.1"
        assert back.header.ver_proto == "SyncML/1.1"
        assert back.header.target.loc_uri == "/"
        assert back.header.source.loc_uri == "omads"
        assert back.header.session_id == "7"
        assert back.final
        alerts = [c for c in back.commands if isinstance(c, Alert)]
        assert [a.data for a in alerts] == [206, 209]
        assert [i.source.loc_uri for i in alerts[0].items] == ["contacts", "calendar"]
        assert [i.meta.type for i in alerts[0].items] == ["text/x-vcard", "text/x-vcalendar"]
        assert alerts[1].items[0].meta is None


def test_legacy_wbxml_uses_syncml_11_public_id():
    """The WBXML legacy SAN names the SyncML 1.1 public id (0x0FD3)."""
    data = codec.encode_message(s.legacy_san_message(s.SAN(server_id="x")), codec.WBXML)
    assert data[1:3] == bytes((0x9F, 0x53))     # mb_u_int32 0x0FD3


def devinf(ver, caps=(1, 2, 7)):
    return DevInf(ver_dtd=ver, dev_id="IMEI:1", dev_typ="phone",
                  datastores=(DataStore(source_ref="c", sync_cap=tuple(caps)),))


@pytest.mark.parametrize("ver,form", [("1.2", "1.2"), ("1.1", "1.1"), ("1.0", "1.1"),
                                      ("2.0", "1.2"), ("junk", "1.1")])
def test_san_form_for(ver, form):
    """1.2+ DevInf gets the binary package 0, older ones the SyncML message form."""
    assert s.san_form_for(devinf(ver)) == form


def test_supports_server_alerted():
    assert s.supports_server_alerted(devinf("1.2"))
    assert not s.supports_server_alerted(devinf("1.2", caps=(1, 2)))
