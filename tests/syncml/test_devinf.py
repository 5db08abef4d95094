"""DevInf 1.1 (flat CTCap at DevInf level) and 1.2 (CTCap per DataStore) from real phones."""

from __future__ import annotations

from gateway.syncml import codec, model as m
from gateway.syncml.devinf import DevInf, devinf_from_tree, devinf_to_tree
from tests.syncml.captures import FIXTURES


def _put_devinf(rel: str) -> DevInf:
    path = FIXTURES / rel
    kind = codec.WBXML if path.suffix == ".wbxml" else codec.XML
    msg = codec.decode_message(path.read_bytes(), kind)
    put = next(c for c in msg.commands if isinstance(c, m.Put))
    assert isinstance(put.items[0].data, DevInf)
    return put.items[0].data


def test_nokia_e51_devinf_11_flat_ctcap():
    di = _put_devinf("public-traces/syncgw/nokia-e51-v11-pkg1-alert201-notes-put-devinf.wbxml")
    assert di.ver_dtd == "1.1" and di.man == "Nokia" and di.mod == "E51"
    assert di.ctcaps, "1.1 CTCap is read at DevInf level"
    for cap in di.ctcaps:
        assert cap.ct_type
    # The 1.1 form is written back flat and reads back the same.
    assert devinf_from_tree(devinf_to_tree(di)) == di
    flat = devinf_to_tree(di).find("CTCap")
    assert flat is not None and flat.children[0].tag == "CTType"
    assert all(c.tag != "Property" for c in flat.children)


def test_sony_ericsson_k800i_devinf_12_ctcap_per_datastore():
    di = _put_devinf("public-traces/txsyncml/sonyericsson-k800i-v12-pkg1-put-devinf-alert201.xml")
    assert di.ver_dtd == "1.2" and di.mod == "K800i"
    assert len(di.datastores) == 5
    bookmarks = [ds for ds in di.datastores if ds.accepts("text/x-vbookmark")]
    assert bookmarks
    cards = [c for c in di.all_ctcaps() if c.ct_type == "text/x-vcard"]
    assert cards and any(p.prop_name == "TEL" for p in cards[0].properties)


def test_syncevolution_devinf_datastore_lookup():
    di = _put_devinf("syncevolution/sessions/xml-md5-slow/01-client.xml")
    ds = di.datastore("addressbook")
    assert ds is not None and ds is di.datastore("./addressbook")
    assert ds.accepts("text/vcard") and ds.preferred_rx() is not None
    assert di.datastore("nope") is None


def test_z600_maxguidsize_before_sourceref():
    di = _put_devinf("public-traces/horde-xml-wbxml/sonyericsson-z600-v10-pkg1-put-devinf.wbxml")
    refs = {ds.source_ref for ds in di.datastores}
    assert {"EriPBDB", "EriCalDB", "EriTodoDB"} <= refs
    assert all(ds.max_guid_size for ds in di.datastores)
