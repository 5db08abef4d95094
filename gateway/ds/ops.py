"""The item operations an engine still has to send, shared by the server and the client.

An operation is ``Op(kind, source, target)``: Add / Replace / Delete of the item the
sender knows as ``source`` (the server's GUID, the client's LUID) and the receiver as
``target`` (its ID when the sender knows it, else None). The packer (packaging.py) turns
operations into commands. ``OpQueue`` holds a datastore's operations flat
(``[kind, source, target, kind, ...]``), as the session JSON stores them; an operation
becomes an ``Op`` only when read, so a message that sends a few hundred of 20,000 touches
only those.
"""

from __future__ import annotations

from typing import NamedTuple

ADD, REPLACE, DELETE = "add", "replace", "delete"


class Op(NamedTuple):
    """One operation to send (a JSON array of three when serialised)."""

    kind: str                   # ADD / REPLACE / DELETE
    source: str                 # the sender's ID of the item
    target: str | None          # the receiver's ID of the item, if known


class OpQueue:
    """A datastore's operations still to send, in order (see the module docstring)."""

    __slots__ = ("_flat",)

    def __init__(self, ops=()):
        self._flat: list = [x for op in ops for x in op]

    @classmethod
    def from_flat(cls, flat: list) -> "OpQueue":
        if len(flat) % 3:
            raise ValueError("pending operations come in threes")
        queue = cls()
        queue._flat = flat
        return queue

    def __len__(self) -> int:
        return len(self._flat) // 3

    def __iter__(self):
        flat = self._flat
        for i in range(0, len(flat), 3):
            yield Op(flat[i], flat[i + 1], flat[i + 2])

    def __contains__(self, op: object) -> bool:
        return any(mine == op for mine in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OpQueue):
            return self._flat == other._flat
        return NotImplemented

    def __repr__(self) -> str:
        return f"OpQueue({list(self)!r})"

    def extend(self, ops) -> None:
        self._flat.extend(x for op in ops for x in op)

    def prepend(self, ops) -> None:
        self._flat[0:0] = [x for op in ops for x in op]

    def drop(self, n: int) -> None:
        """Forget the first ``n`` operations (sent)."""
        del self._flat[:3 * n]

    def as_flat(self) -> list:
        return self._flat
