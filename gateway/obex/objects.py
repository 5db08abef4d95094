"""Putting objects together from packets and splitting them into packets.

Body and End-of-Body headers carry the object; every other header describes it
(omads-protocol.md §5.2). Both roles use these: the server assembles PUTs and splits GET
replies, the client splits PUTs and assembles GET replies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .constants import PACKET_PREFIX, HeaderId, ResponseCode
from .errors import LocalProtocolError, ObexDecodeError
from .headers import Header, find, headers_size

__all__ = ["ObjectAssembler", "split_object", "BODY_HEADERS"]

BODY_HEADERS = frozenset({HeaderId.BODY, HeaderId.END_OF_BODY})
_BODY_PREFIX = 3


class ObjectAssembler:
    """Collects the headers and body of one multi-packet operation, within ``max_size``."""

    def __init__(self, max_size: int | None = None) -> None:
        self.max_size = max_size
        self.headers: list[Header] = []
        self._chunks: list[bytes] = []
        self.size = 0
        self.body_seen = False
        self.end_seen = False

    def add(self, headers: Iterable[Header], *, offset: int | None = None) -> None:
        """Take one packet's headers; an object over ``max_size`` (by Length or by body)
        raises ObexDecodeError answered with Req. Entity Too Large."""
        for h in headers:
            if h.hi in BODY_HEADERS:
                self.body_seen = True
                self.end_seen = self.end_seen or h.hi == HeaderId.END_OF_BODY
                self._chunks.append(h.value)
                self.size += len(h.value)
                self._check(self.size, offset)
            else:
                self.headers.append(h)
                if h.hi == HeaderId.LENGTH:
                    self._check(h.value, offset)

    def _check(self, size: int, offset: int | None) -> None:
        if self.max_size is not None and size > self.max_size:
            raise ObexDecodeError(f"object of {size} bytes exceeds {self.max_size}",
                                  offset=offset, response=ResponseCode.REQ_ENTITY_TOO_LARGE)

    def find(self, hi: int):
        return find(self.headers, hi)

    @property
    def body(self) -> bytes:
        if len(self._chunks) > 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0] if self._chunks else b""


def split_object(first: Iterable[Header], body: bytes | None,
                 limit: int) -> Iterator[tuple[tuple[Header, ...], bool]]:
    """Yield ``(headers, last)`` per packet so that each packet (3-byte prefix + headers)
    fits in ``limit``. The descriptive headers ``first`` go into the first packet, then as
    much body as fits; the last packet carries End-of-Body (also when the body is empty).
    ``body=None`` yields the headers alone (a PUT-delete, a GET request)."""
    first = tuple(first)
    used = PACKET_PREFIX + headers_size(first)
    if used > limit:
        raise LocalProtocolError(f"headers need {used} bytes, the packet limit is {limit}")
    if body is None:
        yield first, True
        return
    room = limit - used - _BODY_PREFIX
    if len(body) <= room:
        yield first + (Header(hi=HeaderId.END_OF_BODY, value=body),), True
        return
    view = memoryview(body)
    pos = max(room, 0)
    yield (first + (Header(hi=HeaderId.BODY, value=bytes(view[:pos])),) if pos else first), False
    chunk = limit - PACKET_PREFIX - _BODY_PREFIX
    while len(body) - pos > chunk:
        yield (Header(hi=HeaderId.BODY, value=bytes(view[pos:pos + chunk])),), False
        pos += chunk
    yield (Header(hi=HeaderId.END_OF_BODY, value=bytes(view[pos:])),), True
