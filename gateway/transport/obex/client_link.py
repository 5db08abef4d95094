"""SyncML over OBEX for the client (omads-protocol.md §5.1): PUT our message, GET the reply.

The link (TCP, a serial line with the AT preamble, or RFCOMM) and the Twisted protocol
around the I/O-free OBEX client are the gateway's own dialler (transport/obex_dial.py);
this module adds the SyncML client's exchange: Connect to ``SYNCML-SYNC`` once, then one
PUT + GET per message, Disconnect at the end.
"""

from __future__ import annotations

from gateway.ds.client.errors import ConfigError, TransportError
from gateway.obex import Response
from gateway.obex.constants import TARGET_SYNCML_SYNC, HeaderId
from gateway.obex.headers import find, type_text
from gateway.transport.obex.dial import DialError, dial, parse_via


def _ok(event, what: str):
    if isinstance(event, Response) and not event.ok:
        raise TransportError(f"OBEX {what} refused: 0x{event.code:02X}")
    return event


async def open_obex(reactor, link: str, *, timeout: float = 60.0):
    """(send, close) over ``tcp:HOST:PORT``, ``serial:/dev/ttyX`` or ``bt:MAC:CHANNEL``."""
    try:
        target = parse_via("obex:" + link.removeprefix("obex:"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    try:
        client = await dial(reactor, target, timeout=timeout)
        await client.ready
        _ok(await client.connect(TARGET_SYNCML_SYNC), "Connect")
    except (DialError, ConnectionError, OSError) as exc:
        raise TransportError(f"{link}: {exc}") from None
    except TransportError:
        raise
    except Exception as exc:  # noqa: BLE001 - connection refused, timeouts, AT failures
        raise TransportError(f"{link}: {exc}") from None

    async def send(url: str, body: bytes, content_type: str) -> tuple[bytes, str]:
        try:
            _ok(await client.put(content_type, body), "PUT")
            got = _ok(await client.get(content_type), "GET")
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TransportError(f"{link}: {exc}") from None
        raw = find(got.headers, HeaderId.TYPE)
        ctype = type_text(raw) if isinstance(raw, bytes) else content_type
        if not got.body:
            raise TransportError(f"{link}: the server sent an empty message")
        return got.body, ctype

    async def close() -> None:
        try:
            await client.disconnect()
        except Exception:  # noqa: BLE001 - the link may already be gone
            pass
        if client.transport is not None:
            client.transport.loseConnection()

    return send, close
