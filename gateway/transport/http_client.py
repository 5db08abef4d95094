"""SyncML over HTTP(S) for the client (omads-protocol.md §4), on Twisted's Agent.

One POST per message; the response body is the server's next message. HTTPS checks the
certificate chain and the host name (service-identity, through Twisted's TLS options)
against the system's roots, or against ``ca_file`` alone when one is given.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from twisted.internet import defer
from twisted.internet.ssl import Certificate, optionsForClientTLS
from twisted.web.client import (
    Agent, BrowserLikePolicyForHTTPS, FileBodyProducer, HTTPConnectionPool, ResponseNeverReceived,
    readBody,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from gateway.ds.client.errors import ConfigError, TransportError


@implementer(IPolicyForHTTPS)
class CAFilePolicy:
    """Trust only the certificates in one PEM file; the host name is still checked."""

    def __init__(self, ca_file: str | Path):
        try:
            pem = Path(ca_file).read_bytes()
            self.root = Certificate.loadPEM(pem)
        except (OSError, ValueError, Exception) as exc:  # noqa: BLE001 - OpenSSL errors vary
            raise ConfigError(f"--ca-file {ca_file}: {exc}") from None

    def creatorForNetloc(self, hostname: bytes, port: int):
        return optionsForClientTLS(hostname.decode("ascii"), trustRoot=self.root)


class HttpTransport:
    def __init__(self, reactor, *, ca_file: str | Path | None = None, timeout: float = 120.0,
                 persistent: bool = True, user_agent: str = "omads-sync"):
        self.reactor = reactor
        self.timeout = timeout
        self.pool = HTTPConnectionPool(reactor, persistent=persistent)
        self.pool.maxPersistentPerHost = 4
        policy = CAFilePolicy(ca_file) if ca_file else BrowserLikePolicyForHTTPS()
        self.agent = Agent(reactor, contextFactory=policy, pool=self.pool)
        self.user_agent = user_agent.encode("ascii")

    async def send(self, url: str, body: bytes, content_type: str, *,
                   headers: dict[str, str] | None = None) -> tuple[bytes, str]:
        """POST one message (``headers``: extra ones, e.g. x-syncml-hmac). A reused
        connection the server closed meanwhile is retried once on a new one (a SyncML
        server answers a resent message from its cache)."""
        try:
            return await self._send(url, body, content_type, headers)
        except _NeverAnswered:
            return await self._send(url, body, content_type, headers, retry=False)

    async def _send(self, url: str, body: bytes, content_type: str,
                    extra: dict[str, str] | None, *, retry: bool = True) -> tuple[bytes, str]:
        headers = Headers({b"Content-Type": [content_type.encode("ascii")],
                           b"Accept": [content_type.encode("ascii")],
                           b"User-Agent": [self.user_agent],
                           b"Cache-Control": [b"no-store"]})
        for name, value in (extra or {}).items():
            headers.setRawHeaders(name.encode("ascii"), [value.encode("utf-8")])
        try:
            d = self.agent.request(b"POST", url.encode("utf-8"), headers,
                                   FileBodyProducer(BytesIO(body)))
            d.addTimeout(self.timeout, self.reactor)
            response = await d
            d2 = readBody(response)
            d2.addTimeout(self.timeout, self.reactor)
            data = await d2
        except defer.TimeoutError:
            raise TransportError(f"{url}: no answer within {self.timeout:.0f} s") from None
        except TransportError:
            raise
        except ResponseNeverReceived as exc:
            if retry:
                raise _NeverAnswered() from None
            raise TransportError(f"{url}: {_describe(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - connection, TLS and parse errors alike
            raise TransportError(f"{url}: {_describe(exc)}") from None
        if response.code != 200:
            raise TransportError(f"{url}: HTTP {response.code} {response.phrase.decode('latin-1')}")
        ct = response.headers.getRawHeaders(b"content-type", [content_type.encode()])[0]
        return data, ct.decode("latin-1")

    async def close(self) -> None:
        await self.pool.closeCachedConnections()


class _NeverAnswered(Exception):
    pass


def _describe(exc: Exception) -> str:
    reasons = getattr(exc, "reasons", None)
    if reasons:
        return "; ".join(_describe(r.value) for r in reasons)
    return str(exc) or type(exc).__name__
