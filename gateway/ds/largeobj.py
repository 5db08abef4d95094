"""Receiving large objects (omads-protocol.md §3.7), shared by the server and the client.

A chunked item arrives as several Items with ``<MoreData/>`` on all but the last; the
first carries ``Meta Size``. ``receive`` folds one Item into the JSON-able buffer kept in
the session state and says what to answer: 213 for a buffered chunk, 411 when the first
chunk has no Size, 413 over our MaxObjSize, 424 when the sizes disagree; or hands back
the complete object. A buffer for another command or LUID means the previous object was
interrupted (the caller sends Alert 223 for it).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.syncml.codes import StatusCode
from gateway.syncml.model import Item


class BadItem(Exception):
    """An item whose data cannot be used; ``code`` is its status."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, kw_only=True)
class Piece:
    """One received Item of an Add/Replace/... as far as chunking is concerned."""

    cmd: str
    luid: str | None
    target: str | None
    content_type: str
    fmt: str | None
    size: int | None
    wire: bytes
    more_data: bool


@dataclass(frozen=True, kw_only=True)
class Received:
    buffer: dict | None                  # what to keep for the next chunk (None: nothing)
    code: int | None = None              # answer now; None: ``data`` is the whole object
    data: bytes | None = None
    content_type: str = ""
    interrupted: dict | None = None      # a previous object that never completed


def meta_value(item: Item, cmd, attr: str):
    """A Meta value of the Item, or else of its command (Type, Format, Size)."""
    for meta in (item.meta, getattr(cmd, "meta", None)):
        value = getattr(meta, attr, None) if meta is not None else None
        if value is not None:
            return value
    return None


def piece_of(cmd, name: str, item: Item, luid: str | None, default_type: str) -> Piece:
    """The ``Piece`` of one Item of ``cmd`` (named ``name``), for the object ``luid``."""
    return Piece(cmd=name, luid=luid, target=item.target_uri,
                 content_type=meta_value(item, cmd, "type") or default_type,
                 fmt=meta_value(item, cmd, "format"), size=meta_value(item, cmd, "size"),
                 wire=item_wire(item.data), more_data=item.more_data)


def item_wire(data) -> bytes:
    """The Item's Data as bytes (text is UTF-8); nested documents are not item data."""
    if data is None:
        return b""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes):
        return data
    raise BadItem(StatusCode.UNSUPPORTED_MEDIA_TYPE)


def decode_format(wire: bytes, fmt: str | None) -> bytes:
    if (fmt or "").lower() == "b64":
        try:
            return base64.b64decode(wire, validate=False)
        except (binascii.Error, ValueError):
            raise BadItem(StatusCode.UNSUPPORTED_MEDIA_TYPE) from None
    return wire


def receive(buffer: dict | None, piece: Piece, *, max_obj_size: int) -> Received:
    interrupted = None
    if buffer is not None and (buffer["cmd"] != piece.cmd or buffer["luid"] != piece.luid):
        interrupted, buffer = buffer, None
    if not piece.more_data and buffer is None:
        return Received(buffer=None, data=decode_format(piece.wire, piece.fmt),
                        content_type=piece.content_type, interrupted=interrupted)
    if buffer is None:
        size = piece.size
        refused = (StatusCode.SIZE_REQUIRED if size is None
                   else StatusCode.REQUEST_ENTITY_TOO_LARGE if size > max_obj_size else 0)
        buffer = {"cmd": piece.cmd, "luid": piece.luid, "target": piece.target,
                  "ct": piece.content_type, "fmt": piece.fmt, "size": size or 0, "wire": "",
                  "refused": int(refused)}
    if buffer.get("refused"):                    # drop the rest of a refused object
        return Received(buffer=buffer if piece.more_data else None, code=buffer["refused"],
                        interrupted=interrupted)
    got = base64.b64decode(buffer["wire"]) + piece.wire
    if piece.more_data:
        if len(got) > buffer["size"]:
            return Received(buffer=None, code=StatusCode.SIZE_MISMATCH, interrupted=interrupted)
        return Received(buffer={**buffer, "wire": base64.b64encode(got).decode("ascii")},
                        code=StatusCode.CHUNK_ACCEPTED, interrupted=interrupted)
    data = decode_format(got, buffer["fmt"])
    if buffer["size"] not in (len(got), len(data)):
        return Received(buffer=None, code=StatusCode.SIZE_MISMATCH, interrupted=interrupted)
    return Received(buffer=None, data=data, content_type=buffer["ct"], interrupted=interrupted)
