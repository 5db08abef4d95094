"""Hypothesis strategies for SyncML model objects (messages, DevInf)."""

from __future__ import annotations

from hypothesis import strategies as st

from gateway.syncml import devinf as d
from gateway.syncml import model as m
from gateway.syncml.metinf import Anchor, Mem, Meta

# Text XML can carry, without leading/trailing white space (leaf TEXT fields are stripped).
_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
word = st.text(_chars, min_size=1, max_size=12).map(str.strip).filter(bool)
ident = st.from_regex(r"[A-Za-z0-9./_:-]{1,20}", fullmatch=True)
number = st.integers(min_value=0, max_value=2**31 - 1)
# Payload text: anything XML can carry, CR/LF/tab included, exact.
payload = st.text(st.one_of(_chars, st.sampled_from("\r\n\t<&]>")), max_size=200)


def opt(s):
    return st.none() | s


anchors = st.builds(Anchor, last=opt(ident), next=opt(ident))
metas = st.builds(
    Meta, format=opt(st.sampled_from(["b64", "chr", "bin"])),
    type=opt(st.sampled_from(["text/vcard", "text/x-vcard", "syncml:auth-md5",
                              "application/vnd.syncml-devinf+xml"])),
    size=opt(number), anchor=opt(anchors), version=opt(ident), next_nonce=opt(ident),
    max_msg_size=opt(number), max_obj_size=opt(number),
    emi=st.lists(ident, max_size=2).map(tuple),
    mem=opt(st.builds(Mem, shared_mem=st.booleans(), free_mem=opt(number), free_id=opt(number))),
)
locations = st.builds(m.Location, loc_uri=ident, loc_name=opt(word))

ctinfo = st.builds(d.CTInfo, ct_type=st.sampled_from(["text/vcard", "text/x-vcard", "text/calendar"]),
                   ver_ct=st.sampled_from(["2.1", "3.0", "2.0", "1.0"]))
props = st.builds(d.Property, prop_name=ident, data_type=opt(ident), max_occur=opt(number),
                  max_size=opt(number), no_truncate=st.booleans(),
                  val_enums=st.lists(ident, max_size=3).map(tuple), display_name=opt(word),
                  params=st.lists(st.builds(d.PropParam, param_name=ident,
                                            val_enums=st.lists(ident, max_size=3).map(tuple)),
                                  max_size=2).map(tuple))
datastores = st.builds(
    d.DataStore, source_ref=ident, display_name=opt(word), max_guid_size=opt(number),
    rx_pref=ctinfo, rx=st.lists(ctinfo, max_size=2).map(tuple), tx_pref=ctinfo,
    tx=st.lists(ctinfo, max_size=2).map(tuple),
    ctcaps=st.lists(st.builds(d.CTCap, ct_type=ident, ver_ct=opt(ident),
                              properties=st.lists(props, max_size=3).map(tuple)),
                    max_size=2).map(tuple),
    ds_mem=opt(st.builds(d.DSMem, shared_mem=st.booleans(), max_mem=opt(number), max_id=opt(number))),
    sync_cap=st.lists(st.integers(1, 7), max_size=7).map(tuple),
)
devinfs = st.builds(
    d.DevInf, ver_dtd=st.just("1.2"), man=opt(word), mod=opt(word), dev_id=ident,
    dev_typ=st.sampled_from(["phone", "server", "workstation", "smartphone"]),
    utc=st.booleans(), support_large_objs=st.booleans(), support_number_of_changes=st.booleans(),
    datastores=st.lists(datastores, min_size=1, max_size=3).map(tuple),
    exts=st.lists(st.builds(d.Ext, xnam=ident, xvals=st.lists(ident, max_size=2).map(tuple)),
                  max_size=2).map(tuple),
)


def items(data):
    return st.builds(m.Item, target=opt(locations), source=opt(locations), meta=opt(metas),
                     data=data, more_data=st.booleans())


cmd_id = st.integers(1, 9999).map(str)
item_data = st.none() | payload
creds = st.builds(m.Cred, meta=opt(metas), data=ident)


def _item_cmd(cls):
    return st.builds(cls, cmd_id=cmd_id, no_resp=st.booleans(), meta=opt(metas),
                     items=st.lists(items(item_data), min_size=1, max_size=3).map(tuple))


data_cmds = st.one_of(_item_cmd(m.Add), _item_cmd(m.Replace), _item_cmd(m.Copy),
                      st.builds(m.Delete, cmd_id=cmd_id, archive=st.booleans(), sft_del=st.booleans(),
                                items=st.lists(items(st.none()), min_size=1, max_size=3).map(tuple)))
commands = st.one_of(
    st.builds(m.Alert, cmd_id=cmd_id, data=st.sampled_from([200, 201, 205, 222, 225]),
              items=st.lists(items(st.none()), max_size=2).map(tuple)),
    st.builds(m.Status, cmd_id=cmd_id, msg_ref=cmd_id, cmd_ref=cmd_id,
              cmd=st.sampled_from(["SyncHdr", "Alert", "Add", "Sync"]),
              target_refs=st.lists(ident, max_size=2).map(tuple),
              source_refs=st.lists(ident, max_size=2).map(tuple),
              chal=opt(st.builds(m.Chal, meta=metas)), data=st.integers(100, 599),
              items=st.lists(items(st.none() | payload | anchors), max_size=2).map(tuple)),
    st.builds(m.Sync, cmd_id=cmd_id, target=opt(locations), source=opt(locations),
              number_of_changes=opt(number), commands=st.lists(data_cmds, max_size=3).map(tuple)),
    st.builds(m.Put, cmd_id=cmd_id, meta=opt(metas),
              items=st.lists(items(devinfs), min_size=1, max_size=1).map(tuple)),
    st.builds(m.Get, cmd_id=cmd_id, meta=opt(metas),
              items=st.lists(items(st.none()), min_size=1, max_size=1).map(tuple)),
    st.builds(m.Results, cmd_id=cmd_id, msg_ref=opt(cmd_id), cmd_ref=cmd_id, meta=opt(metas),
              items=st.lists(items(devinfs), min_size=1, max_size=1).map(tuple)),
    st.builds(m.Map, cmd_id=cmd_id, target=locations, source=locations,
              map_items=st.lists(st.builds(m.MapItem, target=locations, source=locations),
                                 min_size=1, max_size=3).map(tuple)),
)
headers = st.builds(
    m.SyncHdr, ver_dtd=st.sampled_from(["1.2", "1.1"]), session_id=ident, msg_id=cmd_id,
    target=locations, source=locations, resp_uri=opt(ident), no_resp=st.booleans(),
    cred=opt(creds), meta=opt(metas)).map(
    lambda h: __import__("dataclasses").replace(h, ver_proto="SyncML/" + h.ver_dtd))
messages = st.builds(m.Message, header=headers,
                     body=st.builds(m.SyncBody, commands=st.lists(commands, max_size=4).map(tuple),
                                    final=st.booleans()))
