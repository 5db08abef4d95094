"""OBEX (IrOBEX 1.x as used by the SyncML OBEX binding), I/O-free.

Codec: :mod:`.headers`, :mod:`.packets`; state machines: :class:`ObexServer`,
:class:`ObexClient`; SyncML PUT/GET pairing: :class:`SyncMLObexServer`; serial AT preamble:
:mod:`.at`. Hosting (e.g. in a Twisted Protocol)::

    def dataReceived(self, data):
        self.core.receive_data(data, now=self.reactor.seconds())
        self.transport.write(self.core.data_to_send())
        for event in self.core.events():
            ...                    # dispatch; a reply: self.transport.write(self.core.send(ev))
        # re-arm one timer at self.core.next_deadline() -> self.core.handle_timeout(now)

Close the transport after writing when a ``ConnectionClosed`` event arrives.
"""

from .client import ClientConfig, ClientState, ObexClient
from .constants import HeaderId, Opcode, ResponseCode
from .errors import ObexDecodeError
from .events import (Abort, ConnectionClosed, ConnectRequest, Connected, Disconnect, Event,
                     GetRequest, GetResponse, PutRequest, RequestRejected, Response)
from .headers import Header
from .packets import Packet
from .server import ObexServer, ServerConfig, ServerState
from .syncml_binding import SyncMLObexServer, SyncMLRequest

__all__ = [
    "ClientConfig", "ClientState", "ObexClient", "HeaderId", "Opcode", "ResponseCode",
    "ObexDecodeError", "Abort", "ConnectionClosed", "ConnectRequest", "Connected", "Disconnect",
    "Event", "GetRequest", "GetResponse", "PutRequest", "RequestRejected", "Response", "Header",
    "Packet", "ObexServer", "ServerConfig", "ServerState", "SyncMLObexServer", "SyncMLRequest",
]
