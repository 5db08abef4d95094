"""Events of the Data Sync client engine: frozen, keyword-only values.

``ClientSession.next_event()`` hands out what happened (``ModeSettled``, ``Exchanged``,
``SessionEnded``); ``ClientSession.send()`` takes the commands (``Suspend``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.ds.client.errors import ClientError

__all__ = ["Event", "Suspend", "ModeSettled", "Exchanged", "SessionEnded"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of the client engine's events."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Suspend(Event):
    """Command: ask the server to suspend the session with the next message we send
    (Alert 224, omads-protocol.md §3.9); from package 3 on, else when it is reached."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeSettled(Event):
    """The server's Alert settled the sync mode (AlertCode 200..205) of a datastore."""

    datastore: str                  # our LocURI
    mode: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchanged(Event):
    """A server message was taken (and our answer, if any, made): the totals so far."""

    messages_sent: int
    messages_received: int
    bytes_sent: int
    bytes_received: int
    items_sent: int                 # our items the server acknowledged or refused
    items_received: int             # the server's items we applied


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded(Event):
    """The session is over: ``ok`` when every datastore synced; ``error`` when it failed
    (the class says which way: AuthError, ProtocolError, SyncFailed...)."""

    ok: bool
    suspended: bool
    error: ClientError | None = None
