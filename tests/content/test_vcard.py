"""vCard 2.1 <-> 3.0, UID look-up, slow-sync keys."""

from __future__ import annotations

import base64

from content_samples import funambol_large_vcard, syncevolution_vcards
from gateway.content import vcard
from gateway.content.convert import convert, item_uid
from gateway.content.vformat import parse, unfold

NOKIA_21 = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:2.1\r\n"
    b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;Dr.;\r\n"
    b"FN;CHARSET=UTF-8:J\xc3\xbcrgen M\xc3\xbcller\r\n"
    b"TEL;CELL;PREF:+49 170 1234567\r\n"
    b"TEL;WORK;VOICE:+49 30 987654\r\n"
    b"EMAIL;INTERNET:jm@example.de\r\n"
    b"ADR;HOME:;;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;Germany\r\n"
    b"NOTE;ENCODING=QUOTED-PRINTABLE:first, line=0D=0Asecond\\line=\r\n"
    b" still second\r\n"
    b"X-EPOCSECONDNAME:Jo\r\n"
    b"END:VCARD\r\n"
)


def test_21_to_30():
    out = vcard.to_version(NOKIA_21, "3.0")
    card = parse(out)
    assert card.version == "3.0"
    assert card.value("N") == "Müller;Jürgen;;Dr.;"
    assert card.first("N").params == ()  # CHARSET and QP gone: 3.0 is UTF-8, 8-bit
    assert card.value("FN") == "Jürgen Müller"
    tels = card.all("TEL")
    assert [t.params for t in tels] == [(("TYPE", ("CELL", "PREF")),), (("TYPE", ("WORK", "VOICE")),)]
    assert card.first("EMAIL").params == (("TYPE", ("INTERNET",)),)
    # 2.1 "\;" inside a component stays one component, escaped the 3.0 way
    assert card.value("ADR") == ";;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;Germany"
    # the QP line break becomes \n; comma and backslash are escaped
    assert card.value("NOTE") == "first\\, line\\nsecond\\\\line still second"
    assert card.value("X-EPOCSECONDNAME") == "Jo"
    assert b"ENCODING" not in out and b"CHARSET" not in out


def test_30_to_21_and_back():
    three = vcard.to_version(NOKIA_21, "3.0")
    two = vcard.to_version(three, "2.1")
    card = parse(two)
    assert card.version == "2.1"
    assert card.first("TEL").params == (("CELL", ()), ("PREF", ()))
    note = card.first("NOTE")
    assert note.encoding == "QUOTED-PRINTABLE"
    assert note.value == "first, line\r\nsecond\\line still second"
    n = card.first("N")
    assert n.value == "Müller;Jürgen;;Dr.;" and n.charset == "UTF-8"
    assert card.value("ADR") == ";;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;Germany"
    assert vcard.to_version(two, "3.0") == three


def test_syncevolution_30_cards_to_21():
    for data in syncevolution_vcards():
        source = parse(data)
        card = parse(vcard.to_version(data, "2.1"))
        assert card.value("N") == source.value("N")
        assert card.first("TEL").params == (("CELL", ()),)
        assert card.first("EMAIL").params == (("INTERNET", ()),)
        assert card.value("PRODID") == source.value("PRODID")


def test_funambol_21_large_object_to_30_and_back():
    data = funambol_large_vcard()
    source = parse(data)
    three = vcard.to_version(data, "3.0")
    card = parse(three)
    photo = card.first("PHOTO")
    assert photo.params == (("TYPE", ("JPEG",)), ("ENCODING", ("b",)))
    assert photo.value == source.value("PHOTO")
    assert card.value("FN") == "Laden\\, Bin"
    assert card.value("NOTE").count("\\n") == source.value("NOTE").count("\n")
    assert max(len(line) for line in three.split(b"\r\n")) <= 75
    back = parse(vcard.to_version(three, "2.1"))
    assert back.first("PHOTO").params == (("TYPE", ("JPEG",)), ("ENCODING", ("BASE64",)))
    assert back.value("PHOTO") == source.value("PHOTO")
    assert back.value("NOTE").replace("\r\n", "\n") == source.value("NOTE")


def test_200kb_photo():
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 800
    encoded = base64.b64encode(jpeg)
    folded = b"\r\n ".join(encoded[i : i + 72] for i in range(0, len(encoded), 72))
    data = (
        b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Big;Photo\r\nUID:big-1\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n "
        + folded
        + b"\r\n\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n"
    )
    assert len(data) > 200_000
    assert vcard.extract_uid(data) == "big-1"
    card = parse(data)
    assert base64.b64decode(card.value("PHOTO")) == jpeg
    assert card.value("TEL") == "+1 555 0100"
    three = convert(data, "text/x-vcard", "text/vcard")
    assert base64.b64decode(parse(three).value("PHOTO")) == jpeg
    assert all(len(line) <= 75 for line in three.split(b"\r\n"))


def test_30_fills_in_fn_and_n():
    card = parse(vcard.to_version(b"BEGIN:VCARD\nVERSION:2.1\nN:Doe;John;Q;Mr.;Jr.\nEND:VCARD\n", "3.0"))
    assert card.value("FN") == "Mr. John Q Doe Jr."
    card = parse(vcard.to_version(b"BEGIN:VCARD\nVERSION:2.1\nORG:ACME;Sales\nEND:VCARD\n", "3.0"))
    assert (card.value("N"), card.value("FN")) == ("", "ACME")


def test_30_types_values_and_drop_meta():
    data = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nPROFILE:VCARD\r\nNAME:x\r\nFN:A\r\nN:A;;;;\r\n"
        b"PHOTO;VALUE=uri:http://example.com/a.jpg\r\nCATEGORIES:Work,VIP\\, gold\r\n"
        b"item1.EMAIL;type=INTERNET,pref:a@example.com\r\nEND:VCARD\r\n"
    )
    card = parse(vcard.to_version(data, "2.1"))
    assert card.first("PROFILE") is None and card.first("NAME") is None
    assert card.first("PHOTO").params == (("VALUE", ("URL",)),)
    email = card.first("EMAIL")
    assert (email.group, email.params) == ("item1", (("INTERNET", ()), ("PREF", ())))
    assert card.value("CATEGORIES") == "Work,VIP, gold"


def test_21_options_for_phones():
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jos\xc3\xa9\r\nN:;Jos\xc3\xa9;;;\r\nEND:VCARD\r\n"
    card = vcard.convert_card(parse(data), "2.1", charset="ISO-8859-1", qp_non_ascii=True)
    fn = card.first("FN")
    assert fn.encoding == "QUOTED-PRINTABLE" and fn.charset == "ISO-8859-1"
    from gateway.content.vformat import serialize

    assert b"FN;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Jos=E9\r\n" in serialize(card)


def test_extract_uid():
    assert vcard.extract_uid(NOKIA_21) is None
    assert vcard.extract_uid(b"BEGIN:VCARD\nVERSION:3.0\nuid:  abc \nEND:VCARD\n") == "abc"
    long_uid = "u" * 100
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + long_uid[:70].encode() + b"\r\n " + long_uid[70:].encode() + b"\r\nEND:VCARD\r\n"
    assert vcard.extract_uid(data) == long_uid
    # a UID inside folded base64 data does not count
    assert vcard.extract_uid(b"BEGIN:VCARD\nPHOTO;ENCODING=b:AAAA\n UID:AAAA\nEND:VCARD\n") is None
    assert item_uid(data, "text/vcard") == long_uid


def test_content_key_pairs_the_same_person_across_versions():
    three = vcard.to_version(NOKIA_21, "3.0")
    assert vcard.content_key(NOKIA_21) == vcard.content_key(three)
    assert vcard.content_key(NOKIA_21) == "n:jürgen müller|t:+491701234567"  # N: family, given, middle
    reordered = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:M\xc3\xbcller\\, J\xc3\xbcrgen\nTEL:+49 30 98-76-54\n"
        b"TEL:+49 170 1234567\nEND:VCARD\n"
    )
    assert vcard.content_key(reordered) == vcard.content_key(NOKIA_21)
    with_uid = b"BEGIN:VCARD\nVERSION:3.0\nUID:x-1\nFN:A\nEND:VCARD\n"
    assert vcard.content_key(with_uid) == "uid:x-1"
    assert vcard.content_key(with_uid, use_uid=False) == "n:a"
    assert vcard.content_key(b"BEGIN:VCARD\nFN:A\nEMAIL:A@X.org\nEND:VCARD\n") == "n:a|e:a@x.org"


def test_funambol_and_syncevolution_keys():
    assert vcard.content_key(funambol_large_vcard()) == "n:bin laden|t:+39328759222"
    keys = {vcard.content_key(d) for d in syncevolution_vcards()}
    assert len(keys) == 3


def test_convert_output_is_well_formed_lines():
    out = vcard.to_version(NOKIA_21, "3.0")
    assert out.endswith(b"END:VCARD\r\n")
    assert b"\n" not in out.replace(b"\r\n", b"")
    assert unfold(out)[0] == b"BEGIN:VCARD"
