"""OBEX (IrOBEX 1.x as used by the SyncML OBEX binding), I/O-free.

Codec: :mod:`.headers`, :mod:`.packets`; state machines: :class:`ObexServer`,
:class:`ObexClient`; SyncML PUT/GET pairing: :class:`SyncMLObexServer`; serial AT preamble:
:mod:`.at`. Each has the verbs of every core: ``receive_data(data, now)``, ``next_event()``
/ ``events()``, ``send(event, now)``, ``data_to_send()``, ``next_deadline()`` /
``handle_timeout(now)``; ``gateway.transport.host.CoreHost`` runs them on a Twisted
transport. Close the transport after writing when a ``ConnectionClosed`` event arrives.
"""

from .client import ClientConfig, ClientState, ObexClient
from .constants import HeaderId, Opcode, ResponseCode
from .errors import ObexDecodeError
from .events import (Abort, ConnectionClosed, ConnectRequest, Connected, Disconnect, Event,
                     GetRequest, GetResponse, PutRequest, RequestRejected, Response)
from .headers import Header
from .packets import Packet
from .server import ObexServer, ServerConfig, ServerState
from .syncml_binding import SyncMLObexServer, SyncMLReply, SyncMLRequest

__all__ = [
    "ClientConfig", "ClientState", "ObexClient", "HeaderId", "Opcode", "ResponseCode",
    "ObexDecodeError", "Abort", "ConnectionClosed", "ConnectRequest", "Connected", "Disconnect",
    "Event", "GetRequest", "GetResponse", "PutRequest", "RequestRejected", "Response", "Header",
    "Packet", "ObexServer", "ServerConfig", "ServerState", "SyncMLObexServer", "SyncMLReply",
    "SyncMLRequest",
]
