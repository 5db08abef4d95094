"""Sync filters through the engine (record filters, dr(), EXCLUSIVE, field filters), on
the fake and the SQLite store."""

from dataclasses import dataclass, replace
from datetime import datetime

from gateway.content.vformat import parse
from gateway.ds import contentops
from gateway.ds.filters import main_component
from gateway.ds.server.handler import Request, SyncServer
from gateway.ds.server.session import DatastoreState, SessionState
from gateway.ds.settings import DEFAULT_DATASTORES, ServerSettings
from gateway.syncml import codec
from gateway.syncml.metinf import Meta
from gateway.syncml.model import (
    Add, Alert, Filter, Item, Location, Message, Replace, Status, Sync, SyncBody, SyncHdr,
)
from gateway.syncml.tree import NS_DEVINF, Element
from tests.ds.simclient import SimClient
from tests.syncml.captures import FIXTURES

DAY = 86400.0
NOW = (datetime(2024, 6, 15, 12, 0) - datetime(1970, 1, 1)).total_seconds()
ICAL = "text/calendar"
VCARD = "text/vcard"
CAPTURE = (FIXTURES / "public-traces" / "horde-xml-wbxml"
           / "synthesis-palm-pro-2.1-v10-pkg1-filter-in-target-uri.wbxml")


@dataclass
class FilterClient(SimClient):
    """A SimClient whose sync Alerts carry ``alert_filter`` in their Target."""

    alert_filter: Filter | None = None

    def send(self, commands, **kw):
        if self.alert_filter is not None:
            commands = [_with_filter(c, self.alert_filter) for c in commands]
        return super().send(commands, **kw)


def _with_filter(cmd, flt):
    if not isinstance(cmd, Alert) or not (200 <= (cmd.data or 0) <= 205):
        return cmd
    item = cmd.items[0]
    return replace(cmd, items=(replace(item, target=replace(item.target, filter=flt)),))


def stamp(days: float) -> str:
    return datetime.utcfromtimestamp(NOW + days * DAY).strftime("%Y%m%dT%H%M%SZ")


def event(summary: str, days: float, rrule: str | None = None) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", f"UID:{summary}",
             f"SUMMARY:{summary}", f"DTSTART:{stamp(days)}", f"DTEND:{stamp(days + 0.05)}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    return "\r\n".join(lines + ["END:VEVENT", "END:VCALENDAR", ""]).encode()


def contact(name: str, cats: str, extra: str = "") -> bytes:
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{name}\r\nN:{name};;;;\r\nFN:{name}\r\n"
            f"CATEGORIES:{cats}\r\n{extra}END:VCARD\r\n").encode()


def put(store, ds: str, data: bytes, ct: str, user: str = "alice") -> str:
    with store.transaction() as tx:
        return tx.add_item(user, ds, data=data, content_type=ct,
                           uid=contentops.item_uid(data, ct), changed_by="web", now=NOW - DAY,
                           fingerprint=contentops.fingerprint(data)).guid


def change(store, ds: str, guid: str, data: bytes, ct: str) -> None:
    with store.transaction() as tx:
        tx.replace_item("alice", ds, guid, data=data, content_type=ct,
                        uid=contentops.item_uid(data, ct), changed_by="web", now=NOW,
                        fingerprint=contentops.fingerprint(data))


def stored(store, ds: str, guid: str) -> bytes | None:
    with store.transaction() as tx:
        item = tx.get_item("alice", ds, guid)
    return bytes(item.data) if item is not None else None


def count(store, ds: str) -> int:
    with store.transaction() as tx:
        return tx.count_items("alice", ds)


def names(client, prop="SUMMARY") -> set[str]:
    return {main_component(parse(d.encode())).value(prop) for d in client.items.values()}


def record(expr: str, ftype: str | None = None, field=None, ctype=None) -> Filter:
    rec = Item(meta=Meta(type="syncml:filtertype-cgi"), data=expr) if expr else None
    return Filter(meta=Meta(type=ctype) if ctype else None, record=rec, field=field,
                  filter_type=ftype)


def alert_status(client) -> int:
    return next(s.data for s in client.alert_statuses if s.cmd == "Alert")


# -- date range ----------------------------------------------------------------------------
def test_calendar_two_way_sync_with_date_range_sends_only_events_in_range(make_server, store):
    server = make_server()
    for summary, days, rule in (("recent", -10, None), ("old", -60, None),
                                ("soon", 80, None), ("far", 200, None),
                                ("weekly", -400, "FREQ=WEEKLY"),
                                ("ended", -400, "FREQ=DAILY;COUNT=3")):
        put(store, "calendar", event(summary, days, rule), ICAL)
    client = FilterClient(server, ds_uri="./cal", server_ds="calendar?/dr(-30,90)",
                          send_devinf=False, now=NOW)
    mode, _ = client.sync(201)
    assert mode == 201
    assert names(client) == {"recent", "soon", "weekly"}
    put(store, "calendar", event("new-in", 5), ICAL)
    put(store, "calendar", event("new-out", -45), ICAL)
    mode, _ = client.sync(200)
    assert mode == 200
    assert names(client) == {"recent", "soon", "weekly", "new-in"}
    assert count(store, "calendar") == 8            # nothing deleted on the server


def test_dr_window_is_fixed_at_the_alert_and_kept_in_the_session(make_server, store):
    server = make_server()
    put(store, "calendar", event("edge", 89.9), ICAL)
    client = FilterClient(server, ds_uri="./cal", server_ds="calendar?/dr(-30,90)",
                          send_devinf=False, now=NOW)
    client.sync(201)
    assert names(client) == {"edge"}


# -- record filter on CATEGORIES ----------------------------------------------------------------
def _contacts(store):
    return {name: put(store, "contacts", contact(name, cats), VCARD)
            for name, cats in (("ann", "Work"), ("bob", "Work,VIP"), ("cy", "Home"))}


def test_cgi_filter_on_categories_in_the_filter_element(make_server, store):
    _contacts(store)
    client = FilterClient(make_server(), now=NOW, alert_filter=record("CATEGORIES&EQ;Work",
                                                                      "INCLUSIVE"))
    client.sync(201)
    assert names(client, "FN") == {"ann", "bob"}
    assert count(store, "contacts") == 3


def test_cgi_filter_in_the_target_uri(make_server, store):
    _contacts(store)
    client = FilterClient(make_server(), now=NOW, server_ds="contacts?CATEGORIES&iCON;home")
    client.sync(201)
    assert names(client, "FN") == {"cy"}


def test_client_items_outside_the_filter_are_accepted(make_server, store):
    _contacts(store)
    client = FilterClient(make_server(), now=NOW, alert_filter=record("CATEGORIES&EQ;Work"))
    client.sync(201)
    _, got = client.sync(200, adds=[("c9", contact("dee", "Home").decode())])
    assert any(s.cmd == "Add" and s.data == 201 for s in got)
    assert count(store, "contacts") == 4
    assert "dee" in names(client, "FN")           # not deleted in the session it came


# -- EXCLUSIVE vs INCLUSIVE ----------------------------------------------------------------------
def test_exclusive_removes_a_no_longer_matching_item_from_the_client_only(make_server, store):
    guids = _contacts(store)
    client = FilterClient(make_server(), now=NOW,
                          alert_filter=record("CATEGORIES&EQ;Work", "EXCLUSIVE"))
    client.sync(201)
    assert names(client, "FN") == {"ann", "bob"}
    change(store, "contacts", guids["bob"], contact("bob", "Home"), VCARD)
    client.sync(200)
    assert names(client, "FN") == {"ann"}
    assert b"CATEGORIES:Home" in stored(store, "contacts", guids["bob"])
    assert count(store, "contacts") == 3
    # an item the client added that does not match goes from the client next time
    client.sync(200, adds=[("c9", contact("dee", "Home").decode())])
    assert "dee" in names(client, "FN")
    client.sync(200)
    assert names(client, "FN") == {"ann"}
    assert count(store, "contacts") == 4


def test_exclusive_is_the_default_filter_type(make_server, store):
    guids = _contacts(store)
    client = FilterClient(make_server(), now=NOW, alert_filter=record("CATEGORIES&EQ;Work"))
    client.sync(201)
    change(store, "contacts", guids["ann"], contact("ann", "Home"), VCARD)
    client.sync(200)
    assert names(client, "FN") == {"bob"}


def test_inclusive_leaves_a_no_longer_matching_item_on_the_client(make_server, store):
    guids = _contacts(store)
    client = FilterClient(make_server(), now=NOW,
                          alert_filter=record("CATEGORIES&EQ;Work", "INCLUSIVE"))
    client.sync(201)
    change(store, "contacts", guids["bob"], contact("bob", "Home"), VCARD)
    client.sync(200)
    assert names(client, "FN") == {"ann", "bob"}
    assert all(b"Home" not in d.encode() for d in client.items.values())


# -- field filter ----------------------------------------------------------------------------------
PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD\r\n"


def _wanted(*props):
    wrapper = Element("CTCap", NS_DEVINF, [
        Element("Property", NS_DEVINF, [Element("PropName", NS_DEVINF, None, p)])
        for p in props])
    return Item(meta=Meta(type="application/vnd.syncml-devinf+xml"), data=wrapper)


def test_field_filter_sends_no_photo_and_a_client_replace_keeps_it(make_server, store):
    guid = put(store, "contacts", contact("ann", "Work", PHOTO + "NOTE:private\r\n"), VCARD)
    client = FilterClient(make_server(), now=NOW, alert_filter=Filter(
        meta=Meta(type=VCARD), field=_wanted("N", "FN", "TEL", "CATEGORIES")))
    client.sync(201)
    (luid, data), = client.items.items()
    assert "PHOTO" not in data and "NOTE" not in data and "FN:ann" in data
    edited = data.replace("FN:ann", "FN:Ann Smith").replace("CATEGORIES:Work",
                                                            "CATEGORIES:Work,VIP")
    client.sync(200, replaces=[(luid, edited)])
    card = parse(stored(store, "contacts", guid))
    assert card.value("FN") == "Ann Smith"
    assert "VIP" in card.value("CATEGORIES")
    assert card.value("PHOTO") == "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"
    assert card.value("NOTE") == "private"
    # and again: a slow sync of the filtered copy loses nothing either
    client.sync(201)
    card = parse(stored(store, "contacts", guid))
    assert card.value("PHOTO") is not None and card.value("NOTE") == "private"
    assert count(store, "contacts") == 1


def test_field_filter_survives_a_session_state_round_trip():
    ds = DatastoreState(name="contacts", client_uri="./c", server_uri="contacts", mode=200,
                        field_filter=["FN"],
                        record_filter={"expression": "FN&EQ;a", "window": None,
                                       "exclusive": True})
    state = SessionState(key="k", created=0.0, expires=1.0, datastores={"contacts": ds})
    again = SessionState.from_bytes(state.to_bytes()).datastores["contacts"]
    assert again.field_filter == ["FN"] and again.record_filter == ds.record_filter


# -- refused filters ------------------------------------------------------------------------------
def _refused(client, store, code):
    mode, _ = client.sync(200)
    assert mode is None
    assert alert_status(client) == code
    sent = [c for ex in client.log for c in ex.reply.commands if isinstance(c, Sync)]
    assert sent == [] and client.items == {}


def test_bad_expression_is_refused_and_nothing_is_sent(make_server, store):
    _contacts(store)
    _refused(FilterClient(make_server(), now=NOW, alert_filter=record("CATEGORIES&&EQ;(")),
             store, 422)


def test_bad_uri_filter_type_and_grammar_are_refused(make_server, store):
    _contacts(store)
    server = make_server()
    grammar = Filter(record=Item(meta=Meta(type="syncml:filtertype-xpath"), data="x"))
    bad_field = Filter(field=Item(data=Element("Nothing")))
    cases = [({"server_ds": "contacts?/li(5)"}, 406), ({"server_ds": "contacts?FN&&"}, 422),
             ({"alert_filter": record("FN&EQ;a", "SOMETIMES")}, 422),
             ({"alert_filter": record("FN&EQ;a", ctype="image/png")}, 415),
             ({"alert_filter": grammar}, 422), ({"alert_filter": bad_field}, 406)]
    for n, (kw, code) in enumerate(cases):
        _refused(FilterClient(server, now=NOW, device_id=f"dev-{n}", **kw), store, code)


def test_a_refused_datastore_does_not_take_a_sync(make_server, store):
    _contacts(store)
    client = FilterClient(make_server(), now=NOW, alert_filter=record("FN&EQ;"))
    client.sync(200, adds=[("c1", contact("x", "Home").decode())])
    assert count(store, "contacts") == 3


# -- the Synthesis capture -------------------------------------------------------------------------
def test_synthesis_capture_with_dr_in_target_uri(store):
    settings = ServerSettings(datastores=tuple(replace(d, allow_anonymous=True)
                                               for d in DEFAULT_DATASTORES))
    server = SyncServer(settings, store, random_bytes=lambda n: b"\x01" * n)
    for summary, days in (("in", 3), ("before", -31), ("after", 91)):
        put(store, "calendar", event(summary, days), ICAL, user="")
    raw = CAPTURE.read_bytes()
    first = codec.decode_message(raw, codec.WBXML)
    resp = server.handle(Request(body=raw, content_type=codec.WBXML, session=None,
                                 base_url="http://gw/sync", peer="p", now=NOW))
    reply = codec.decode_message(resp.body, resp.content_type)
    alert = next(s for s in reply.commands if isinstance(s, Status) and s.cmd == "Alert"
                 and s.cmd_ref == "3")
    assert alert.data == 200 and alert.target_refs == ("events?/dr(-30,90)",)
    ours = [c for c in reply.commands if isinstance(c, Alert) and c.data == 201]
    assert {c.items[0].target_uri for c in ours} == {"./events", "./tasks", "./notes"}
    hdr = first.header
    second = Message(header=SyncHdr(
        ver_dtd=hdr.ver_dtd, ver_proto=hdr.ver_proto, session_id=hdr.session_id, msg_id="2",
        target=hdr.target, source=hdr.source), body=SyncBody(commands=(
            Sync(cmd_id="1", target=Location(loc_uri="events?/dr(-30,90)"),
                 source=Location(loc_uri="./events")),), final=True))
    resp = server.handle(Request(body=codec.encode_message(second, codec.WBXML),
                                 content_type=codec.WBXML, session=resp.session,
                                 base_url="http://gw/sync", peer="p", now=NOW + 1))
    reply = codec.decode_message(resp.body, resp.content_type)
    sync = next(c for c in reply.commands if isinstance(c, Sync)
                and c.target.loc_uri == "./events")
    got = [cmd for cmd in sync.commands if isinstance(cmd, (Add, Replace))]
    assert len(got) == 1
    data = got[0].items[0].data
    text = data if isinstance(data, str) else data.decode()
    assert "SUMMARY:in" in text and "VERSION:1.0" in text     # the Palm takes vCalendar 1.0


# -- state and DevInf -----------------------------------------------------------------------------
def test_checkpoint_restore_covers_the_filters():
    from gateway.ds.server.context import MessageContext
    ds = DatastoreState(name="contacts", client_uri="./c", server_uri="contacts", mode=200)
    state = SessionState(key="k", created=0.0, expires=1.0, datastores={"contacts": ds})
    ctx = MessageContext(tx=None, settings=ServerSettings(), state=state, now=NOW, msg_id="1",
                         encoding=codec.XML)
    cp = ctx.checkpoint()
    ds.record_filter = {"expression": "FN&EQ;a", "window": None, "exclusive": False}
    ds.field_filter = ["FN"]
    ctx.restore(cp)
    assert ds.record_filter is None and ds.field_filter is None


def test_server_devinf_advertises_filters_in_xml_and_wbxml():
    from gateway.ds.devinf_exchange import server_devinf
    devinf = server_devinf(ServerSettings(), "1.2")
    contacts = devinf.datastore("contacts")
    assert [(c.ct_type, c.ver_ct) for c in contacts.filter_rx] == [
        ("syncml:filtertype-cgi", "1.0")]
    caps = {c.ct_type: c for c in contacts.filter_caps}
    assert set(caps) == {"text/vcard", "text/x-vcard"}
    assert "PHOTO" in caps["text/vcard"].prop_names
    assert "BEGIN" not in caps["text/vcard"].prop_names
    assert caps["text/vcard"].filter_keywords == ("SINCE", "BEFORE")
    for enc in (codec.XML, codec.WBXML):
        again = codec.decode_devinf(codec.encode_devinf(devinf, enc), enc)
        assert again.datastore("calendar").filter_caps == devinf.datastore("calendar").filter_caps
        assert again.datastore("calendar").filter_rx == devinf.datastore("calendar").filter_rx
    assert server_devinf(ServerSettings(), "1.1").datastore("contacts").filter_rx == ()
