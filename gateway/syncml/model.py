"""The SyncML message model (SyncML RepPro 1.0/1.1/1.2): frozen dataclasses.

Each class carries its ``FIELDS`` table (gateway/syncml/fields.py) in DTD order; unknown
child elements are kept in ``extra``. The item-level parts (Location, Cred, Chal, Item,
Filter, MapItem) live in gateway/syncml/items.py and are re-exported here. ``Item.data`` is
text (``str``), opaque bytes, a nested ``DevInf``, an ``Anchor`` (Status of a sync Alert)
or, for anything else, the ``Element`` as received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from gateway.syncml.errors import ModelDecodeError
from gateway.syncml.fields import Field, Kind, read_node, write_node
from gateway.syncml.items import (  # noqa: F401  (re-exported: the model's public names)
    _DATA, Chal, Cred, Filter, Item, ItemData, Location, MapItem,
)
from gateway.syncml.metinf import Meta
from gateway.syncml.tree import NS_SYNCML, Element

# -- commands -----------------------------------------------------------------------

_CMD_ID = Field("CmdID", "cmd_id", Kind.TEXT)
_NO_RESP = Field("NoResp", "no_resp", Kind.FLAG)
_CRED = Field("Cred", "cred", Kind.NODE, Cred)
_META = Field("Meta", "meta", Kind.NODE, Meta)
_ITEMS = Field("Item", "items", Kind.NODE, Item, many=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class _ItemCommand:
    """The shape Add, Replace, Copy and Move share."""

    cmd_id: str = ""
    no_resp: bool = False
    cred: Cred | None = None
    meta: Meta | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, _CRED, _META, _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Add(_ItemCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Replace(_ItemCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Delete:
    cmd_id: str = ""
    no_resp: bool = False
    archive: bool = False
    sft_del: bool = False
    cred: Cred | None = None
    meta: Meta | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, Field("Archive", "archive", Kind.FLAG),
              Field("SftDel", "sft_del", Kind.FLAG), _CRED, _META, _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Copy(_ItemCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Move(_ItemCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    cmd_id: str = ""
    no_resp: bool = False
    cred: Cred | None = None
    data: int | None = None
    correlator: str | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, _CRED, Field("Data", "data", Kind.INT),
              Field("Correlator", "correlator", Kind.TEXT), _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Exec:
    cmd_id: str = ""
    no_resp: bool = False
    cred: Cred | None = None
    meta: Meta | None = None
    correlator: str | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, _CRED, _META, Field("Correlator", "correlator", Kind.TEXT),
              _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class _DevInfCommand:
    """The shape Get and Put share."""

    cmd_id: str = ""
    no_resp: bool = False
    lang: str | None = None
    cred: Cred | None = None
    meta: Meta | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, Field("Lang", "lang", Kind.TEXT), _CRED, _META, _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Get(_DevInfCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Put(_DevInfCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Map:
    cmd_id: str = ""
    target: Location | None = None
    source: Location | None = None
    cred: Cred | None = None
    meta: Meta | None = None
    map_items: tuple[MapItem, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, Field("Target", "target", Kind.NODE, Location),
              Field("Source", "source", Kind.NODE, Location), _CRED, _META,
              Field("MapItem", "map_items", Kind.NODE, MapItem, many=True))


@dataclass(frozen=True, kw_only=True, slots=True)
class Results:
    cmd_id: str = ""
    msg_ref: str | None = None
    cmd_ref: str = ""
    meta: Meta | None = None
    target_ref: str | None = None
    source_ref: str | None = None
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, Field("MsgRef", "msg_ref", Kind.TEXT), Field("CmdRef", "cmd_ref", Kind.TEXT),
              _META, Field("TargetRef", "target_ref", Kind.TEXT),
              Field("SourceRef", "source_ref", Kind.TEXT), _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class Search:
    cmd_id: str = ""
    no_resp: bool = False
    no_results: bool = False
    cred: Cred | None = None
    target: Location | None = None
    sources: tuple[Location, ...] = ()
    lang: str | None = None
    meta: Meta | None = None
    data: ItemData = None
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, Field("NoResults", "no_results", Kind.FLAG), _CRED,
              Field("Target", "target", Kind.NODE, Location),
              Field("Source", "sources", Kind.NODE, Location, many=True),
              Field("Lang", "lang", Kind.TEXT), _META, _DATA)


@dataclass(frozen=True, kw_only=True, slots=True)
class Status:
    cmd_id: str = ""
    msg_ref: str = ""
    cmd_ref: str = ""
    cmd: str = ""
    target_refs: tuple[str, ...] = ()
    source_refs: tuple[str, ...] = ()
    cred: Cred | None = None
    chal: Chal | None = None
    data: int = 200
    items: tuple[Item, ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, Field("MsgRef", "msg_ref", Kind.TEXT), Field("CmdRef", "cmd_ref", Kind.TEXT),
              Field("Cmd", "cmd", Kind.TEXT),
              Field("TargetRef", "target_refs", Kind.TEXT, many=True),
              Field("SourceRef", "source_refs", Kind.TEXT, many=True),
              _CRED, Field("Chal", "chal", Kind.NODE, Chal), Field("Data", "data", Kind.INT),
              _ITEMS)


@dataclass(frozen=True, kw_only=True, slots=True)
class UnknownCommand:
    """A SyncBody child we do not know; answered with 501/406 by the engines."""

    element: Element
    cmd_id: str = ""


def _read_commands(el: Element) -> "Command":
    cls = COMMAND_CLASSES.get(el.tag)
    if cls is None:
        cmd_id = el.findtext("CmdID") or ""
        return UnknownCommand(element=el, cmd_id=cmd_id.strip())
    return read_node(cls, el)


def _write_command(cmd: "Command", f: Field | None = None) -> list[Element]:
    if isinstance(cmd, UnknownCommand):
        return [cmd.element]
    return [write_node(cmd, COMMAND_TAGS[type(cmd)])]


def _command_fields(tags: tuple[str, ...]) -> tuple[Field, ...]:
    return tuple(Field(t, "commands", Kind.CUSTOM, many=True, read=_read_commands,
                       write=_write_command) for t in tags)


@dataclass(frozen=True, kw_only=True, slots=True)
class Sync:
    cmd_id: str = ""
    no_resp: bool = False
    cred: Cred | None = None
    target: Location | None = None
    source: Location | None = None
    meta: Meta | None = None
    number_of_changes: int | None = None
    commands: tuple["Command", ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, _CRED, Field("Target", "target", Kind.NODE, Location),
              Field("Source", "source", Kind.NODE, Location), _META,
              Field("NumberOfChanges", "number_of_changes", Kind.INT),
              *_command_fields(("Add", "Atomic", "Copy", "Delete", "Move", "Replace", "Sequence")))


@dataclass(frozen=True, kw_only=True, slots=True)
class Atomic:
    cmd_id: str = ""
    no_resp: bool = False
    meta: Meta | None = None
    commands: tuple["Command", ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = (_CMD_ID, _NO_RESP, _META, *_command_fields(
        ("Add", "Alert", "Atomic", "Copy", "Delete", "Exec", "Get", "Map", "Move", "Put",
         "Replace", "Results", "Search", "Sequence", "Sync")))


@dataclass(frozen=True, kw_only=True, slots=True)
class Sequence:
    cmd_id: str = ""
    no_resp: bool = False
    meta: Meta | None = None
    commands: tuple["Command", ...] = ()
    extra: tuple[Element, ...] = ()

    FIELDS = Atomic.FIELDS


Command = Union[Add, Alert, Atomic, Copy, Delete, Exec, Get, Map, Move, Put, Replace, Results,
                Search, Sequence, Status, Sync, UnknownCommand]

COMMAND_CLASSES: dict[str, type] = {
    "Add": Add, "Alert": Alert, "Atomic": Atomic, "Copy": Copy, "Delete": Delete,
    "Exec": Exec, "Get": Get, "Map": Map, "Move": Move, "Put": Put, "Replace": Replace,
    "Results": Results, "Search": Search, "Sequence": Sequence, "Status": Status, "Sync": Sync,
}
COMMAND_TAGS: dict[type, str] = {v: k for k, v in COMMAND_CLASSES.items()}


def command_name(cmd: "Command") -> str:
    if isinstance(cmd, UnknownCommand):
        return cmd.element.tag
    return COMMAND_TAGS[type(cmd)]


# -- header and message ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncHdr:
    ver_dtd: str = "1.2"
    ver_proto: str = "SyncML/1.2"
    session_id: str = ""
    msg_id: str = ""
    target: Location | None = None
    source: Location | None = None
    resp_uri: str | None = None
    no_resp: bool = False
    cred: Cred | None = None
    meta: Meta | None = None
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("VerDTD", "ver_dtd", Kind.TEXT),
        Field("VerProto", "ver_proto", Kind.TEXT),
        Field("SessionID", "session_id", Kind.TEXT),
        Field("MsgID", "msg_id", Kind.TEXT),
        Field("Target", "target", Kind.NODE, Location),
        Field("Source", "source", Kind.NODE, Location),
        Field("RespURI", "resp_uri", Kind.TEXT),
        Field("NoResp", "no_resp", Kind.FLAG),
        Field("Cred", "cred", Kind.NODE, Cred),
        Field("Meta", "meta", Kind.NODE, Meta),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncBody:
    commands: tuple[Command, ...] = ()
    final: bool = False
    extra: tuple[Element, ...] = ()

    FIELDS = (*_command_fields(tuple(COMMAND_CLASSES)), Field("Final", "final", Kind.FLAG))


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    """One SyncML message: ``<SyncML><SyncHdr/><SyncBody/></SyncML>``."""

    header: SyncHdr
    body: SyncBody
    extra: tuple[Element, ...] = ()

    FIELDS = (
        Field("SyncHdr", "header", Kind.NODE, SyncHdr),
        Field("SyncBody", "body", Kind.NODE, SyncBody),
    )

    @property
    def commands(self) -> tuple[Command, ...]:
        return self.body.commands

    @property
    def final(self) -> bool:
        return self.body.final


def message_from_tree(root: Element) -> Message:
    """The model of a decoded ``SyncML`` element (ModelDecodeError if it is not one)."""
    if root.tag != "SyncML":
        raise ModelDecodeError(f"root element is {root.tag!r}, not SyncML", path=root.tag)
    if root.find("SyncHdr") is None or root.find("SyncBody") is None:
        raise ModelDecodeError("SyncML message without SyncHdr or SyncBody", path="SyncML")
    return read_node(Message, root)


def message_to_tree(msg: Message) -> Element:
    return write_node(msg, "SyncML", NS_SYNCML)
