"""Failure classes of a client sync, each with its own ``omads-sync`` exit code.

| code | class | meaning |
|---|---|---|
| 0 | - | every datastore synced |
| 2 | ConfigError | bad options, profile or store path |
| 3 | TransportError | connection, TLS, HTTP or OBEX failure |
| 4 | AuthError | the server refused our credentials (401/407 after retries) |
| 5 | ProtocolError | the server's message was undecodable or broke the protocol |
| 6 | SyncFailed | the server refused a datastore or the session (4xx/5xx status) |
| 7 | LocalStoreError | the local store could not be read or written |
| 8 | Suspended | the session was suspended (resume with ``--resume``) |
| 9 | PartialSync | the session ended but some items were refused |
"""

from __future__ import annotations


class ClientError(Exception):
    exit_code = 1
    label = "error"


class ConfigError(ClientError):
    exit_code, label = 2, "configuration"


class TransportError(ClientError):
    exit_code, label = 3, "transport"


class AuthError(ClientError):
    exit_code, label = 4, "authentication"


class ProtocolError(ClientError):
    exit_code, label = 5, "protocol"


class SyncFailed(ClientError):
    exit_code, label = 6, "sync refused"


class LocalStoreError(ClientError):
    exit_code, label = 7, "local store"


class Suspended(ClientError):
    exit_code, label = 8, "suspended"


class PartialSync(ClientError):
    exit_code, label = 9, "partial"


EXIT_CODES = {cls.label: cls.exit_code for cls in (
    ConfigError, TransportError, AuthError, ProtocolError, SyncFailed, LocalStoreError,
    Suspended, PartialSync)}
