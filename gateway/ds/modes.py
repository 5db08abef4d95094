"""The six sync modes as data (omads-protocol.md §3.1, §3.8): who sends what, and what
each mode needs, for both engines.

A side sends ALL its items (slow sync, a refresh from it), its CHANGES since the last
good sync (two-way, a one-way from it), or NOTHING. A mode that sends changes needs the
anchors of that last sync; without them it becomes a slow sync. A mode where one side
sends all starts the ID map over.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gateway.syncml.codes import AlertCode


class Sends(Enum):
    ALL = "all"
    CHANGES = "changes"
    NOTHING = "nothing"


@dataclass(frozen=True, kw_only=True, slots=True)
class Mode:
    client_sends: Sends
    server_sends: Sends

    @property
    def needs_anchors(self) -> bool:
        """The last good sync must be known (its anchors match), or it is a slow sync."""
        return Sends.CHANGES in (self.client_sends, self.server_sends)

    @property
    def new_map(self) -> bool:
        """A side sends every item, so the ID map is made anew."""
        return Sends.ALL in (self.client_sends, self.server_sends)


MODES: dict[AlertCode, Mode] = {
    AlertCode.TWO_WAY: Mode(client_sends=Sends.CHANGES, server_sends=Sends.CHANGES),
    AlertCode.SLOW_SYNC: Mode(client_sends=Sends.ALL, server_sends=Sends.ALL),
    AlertCode.ONE_WAY_FROM_CLIENT: Mode(client_sends=Sends.CHANGES, server_sends=Sends.NOTHING),
    AlertCode.REFRESH_FROM_CLIENT: Mode(client_sends=Sends.ALL, server_sends=Sends.NOTHING),
    AlertCode.ONE_WAY_FROM_SERVER: Mode(client_sends=Sends.NOTHING, server_sends=Sends.CHANGES),
    AlertCode.REFRESH_FROM_SERVER: Mode(client_sends=Sends.NOTHING, server_sends=Sends.ALL),
}

