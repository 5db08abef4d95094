"""SyncML over OBEX for the client (omads-protocol.md §5.1): PUT our message, GET the reply.

The link (TCP, a serial line with the AT preamble, or RFCOMM) and the Twisted protocol
around the I/O-free OBEX client are the gateway's own dialler (transport/obex/dial.py);
this module adds the SyncML client's exchange: Connect to ``SYNCML-SYNC`` once, then one
PUT + GET per message, Disconnect at the end.
"""

from __future__ import annotations

from gateway.ds.client.errors import ConfigError, TransportError
from gateway.obex.constants import TARGET_SYNCML_SYNC
from gateway.transport.obex.dial import check_ok, dial, message_of, parse_via

SERVER = "the server"


async def open_obex(reactor, link: str, *, timeout: float = 60.0):
    """(send, close) over ``tcp:HOST:PORT``, ``serial:/dev/ttyX`` or ``bt:MAC:CHANNEL``."""
    try:
        target = parse_via("obex:" + link.removeprefix("obex:"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        client = await dial(reactor, target, timeout=timeout)
        await client.ready
        check_ok(await client.connect(TARGET_SYNCML_SYNC), "OBEX Connect", peer=SERVER)
    except Exception as exc:  # noqa: BLE001 - DialError, connection refused, timeouts
        raise TransportError(f"{link}: {exc}") from None

    async def send(url: str, body: bytes, content_type: str) -> tuple[bytes, str]:
        try:
            check_ok(await client.put(content_type, body), "OBEX PUT", peer=SERVER)
            got = check_ok(await client.get(content_type), "OBEX GET", peer=SERVER)
            return message_of(got, content_type, peer=SERVER)
        except Exception as exc:  # noqa: BLE001 - DialError, a lost link
            raise TransportError(f"{link}: {exc}") from None

    async def close() -> None:
        try:
            await client.disconnect()
        except Exception:  # noqa: BLE001 - the link may already be gone
            pass
        if client.transport is not None:
            client.transport.loseConnection()

    return send, close
