"""The phases of a server session and of each datastore sync in it, as transition tables
(package flow: omads-protocol.md §3.7, §3.8; suspend and resume: §3.9).

Session (``SessionState.phase``)::

    AUTHENTICATING --AUTHENTICATED--> OPEN <--REPLIED-- SENDING_MORE
          |                            |  --REPLIED_MORE-->   |
          +---------ENDED------------> ENDED <------ENDED-----+

- AUTHENTICATING: no credentials accepted yet; every message offers them (was the flag
  ``authenticated`` False).
- OPEN: packages flow; our last reply ended our package or answered a client message
  that did not end its own.
- SENDING_MORE: our package did not fit and continues in the next reply; the client's
  next message asks for it (was ``our_package_open``).
- ENDED: the session is over (completed, suspended or refused); its last reply is kept
  only to answer a resend of the last message (was ``complete``).

Datastore sync (``DatastoreState.phase``)::

    ALERTED --BEGIN--> RECEIVING --SEND--> SENDING --SENT_ALL--> DONE

- ALERTED: its Alert is answered; the client's sync package has not begun.
- RECEIVING: the client's first Sync came, or its package ended without one; the
  bookkeeping of a slow sync / refresh from client was done once, on entering (was the
  flag ``prepared``).
- SENDING: the client's package is complete; we send our changes.
- DONE: all our changes are sent.
- RESUME (a suspended sync taken up in a new session) goes back to wait for the client's
  package without redoing the bookkeeping: ALERTED stays, RECEIVING and SENDING become
  RECEIVING (the operations not acknowledged are queued again, alerts.suspend).

Plain data, not phases: ``DatastoreState.pair`` (our datastore held items when the
slow sync began, so the client's items are paired: measured once, read per item),
``map_aside`` (the old ID map was set aside, so the end of the session drops it: a
fact about the store), ``resumed`` (how this sync began), and the session's
``sent_get_devinf``, ``client_pkg`` and counters. A transition the tables do not hold
is our bug: ``LocalProtocolError``.
"""

from __future__ import annotations

from enum import Enum, auto

from gateway.errors import LocalProtocolError


class SessionPhase(Enum):
    AUTHENTICATING = "authenticating"
    OPEN = "open"
    SENDING_MORE = "sending-more"
    ENDED = "ended"


class SessionInput(Enum):
    AUTHENTICATED = auto()      # the credentials were accepted
    REPLIED = auto()            # a reply that leaves our package closed
    REPLIED_MORE = auto()       # a reply without Final because we have more to send
    ENDED = auto()              # the reply ended the session


class DatastorePhase(Enum):
    ALERTED = "alerted"
    RECEIVING = "receiving"
    SENDING = "sending"
    DONE = "done"


class DatastoreInput(Enum):
    BEGIN = auto()              # the client's sync package begins (or ended empty)
    SEND = auto()               # the client's package is complete: we send
    SENT_ALL = auto()           # nothing left to send
    RESUME = auto()             # taken up again after a suspend


_S, _SI = SessionPhase, SessionInput
SESSION_TRANSITIONS: dict[tuple[SessionPhase, SessionInput], SessionPhase] = {
    (_S.AUTHENTICATING, _SI.AUTHENTICATED): _S.OPEN,
    (_S.AUTHENTICATING, _SI.ENDED): _S.ENDED,           # refused before (VerDTD 505)
    (_S.OPEN, _SI.REPLIED): _S.OPEN,
    (_S.OPEN, _SI.REPLIED_MORE): _S.SENDING_MORE,
    (_S.SENDING_MORE, _SI.REPLIED): _S.OPEN,
    (_S.SENDING_MORE, _SI.REPLIED_MORE): _S.SENDING_MORE,
    (_S.OPEN, _SI.ENDED): _S.ENDED,
    (_S.SENDING_MORE, _SI.ENDED): _S.ENDED,
}

_D, _DI = DatastorePhase, DatastoreInput
DATASTORE_TRANSITIONS: dict[tuple[DatastorePhase, DatastoreInput], DatastorePhase] = {
    (_D.ALERTED, _DI.BEGIN): _D.RECEIVING,
    (_D.RECEIVING, _DI.SEND): _D.SENDING,
    (_D.SENDING, _DI.SENT_ALL): _D.DONE,
    (_D.ALERTED, _DI.RESUME): _D.ALERTED,
    (_D.RECEIVING, _DI.RESUME): _D.RECEIVING,
    (_D.SENDING, _DI.RESUME): _D.RECEIVING,
}

# Phases in which the datastore waits for the client's package to end.
AWAITING_CLIENT = frozenset({_D.ALERTED, _D.RECEIVING})


def session_next(phase: SessionPhase, inp: SessionInput) -> SessionPhase:
    try:
        return SESSION_TRANSITIONS[(phase, inp)]
    except KeyError:
        raise LocalProtocolError(f"session: no transition for {inp.name} "
                                 f"in {phase.name}") from None


def datastore_next(phase: DatastorePhase, inp: DatastoreInput) -> DatastorePhase:
    try:
        return DATASTORE_TRANSITIONS[(phase, inp)]
    except KeyError:
        raise LocalProtocolError(f"datastore sync: no transition for {inp.name} "
                                 f"in {phase.name}") from None
