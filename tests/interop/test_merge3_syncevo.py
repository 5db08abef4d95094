"""A real SyncEvolution client and the gateway's three-way merge: a phone number deleted on
the client stays deleted when the server changed the same contact (merge policy)."""

from __future__ import annotations

import pytest

from tests.interop.gateway import PASSWORD, USER
from tests.interop.vcards import normalize_vcard

pytestmark = pytest.mark.interop

BASE = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:omads-merge3-1\r\nN:Berg;Anna;;;\r\nFN:Anna Berg\r\n"
        b"TEL;TYPE=CELL:+491701111111\r\nTEL;TYPE=HOME:+49302222222\r\n"
        b"EMAIL;TYPE=INTERNET:anna@example.org\r\nNOTE:old note\r\nEND:VCARD\r\n")


@pytest.mark.parametrize("wbxml,auth", [(True, "md5"), (False, "basic")],
                         ids=["wbxml-md5", "xml-basic"])
def test_deleted_number_stays_deleted_after_a_conflicting_two_way_sync(
        wbxml, auth, gateway, syncevo_client_factory):
    gw, datastore = gateway, "contacts-merge"
    client = syncevo_client_factory(url=gw.url, username=USER, password=PASSWORD, wbxml=wbxml,
                                    auth=auth, uri=datastore)
    client.write_item("anna.vcf", BASE)
    client.sync("slow").check()
    [(guid, stored)] = gw.items(datastore).items()
    assert normalize_vcard(stored) == normalize_vcard(BASE)

    gw.replace(guid, BASE.replace(b"NOTE:old note", b"NOTE:changed on the server"), datastore)
    client.write_item("anna.vcf", BASE.replace(b"TEL;TYPE=HOME:+49302222222\r\n", b""))
    client.sync("two-way").check()

    want = normalize_vcard(BASE.replace(b"TEL;TYPE=HOME:+49302222222\r\n", b"")
                           .replace(b"NOTE:old note", b"NOTE:changed on the server"))
    [server_side] = gw.items(datastore).values()
    [client_side] = client.items().values()
    assert b"+49302222222" not in server_side and b"+49302222222" not in client_side
    assert normalize_vcard(server_side) == want
    assert normalize_vcard(client_side) == want

    client.sync("two-way").check()                 # and nothing brings it back later
    assert [normalize_vcard(d) for d in client.items().values()] == [want]
    assert [normalize_vcard(d) for d in gw.items(datastore).values()] == [want]
