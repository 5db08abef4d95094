"""Alert and Status codes (OMA DS 1.2; omads-protocol.md §3.1 and §3.3)."""

from __future__ import annotations

from enum import IntEnum


class AlertCode(IntEnum):
    """Alert ``Data`` values (DS Protocol 1.2; SyncML Sync Protocol 1.1)."""

    DISPLAY = 100
    TWO_WAY = 200
    SLOW_SYNC = 201
    ONE_WAY_FROM_CLIENT = 202
    REFRESH_FROM_CLIENT = 203
    ONE_WAY_FROM_SERVER = 204
    REFRESH_FROM_SERVER = 205
    TWO_WAY_BY_SERVER = 206
    ONE_WAY_FROM_CLIENT_BY_SERVER = 207
    REFRESH_FROM_CLIENT_BY_SERVER = 208
    ONE_WAY_FROM_SERVER_BY_SERVER = 209
    REFRESH_FROM_SERVER_BY_SERVER = 210
    RESULT_ALERT = 221
    NEXT_MESSAGE = 222
    NO_END_OF_DATA = 223
    SUSPEND = 224
    RESUME = 225

    @property
    def is_sync(self) -> bool:
        return 200 <= self <= 210

    @property
    def server_alerted(self) -> bool:
        return 206 <= self <= 210

    def client_form(self) -> "AlertCode":
        """206..210 (server-alerted) -> the 200..205 code the client answers with."""
        return _CLIENT_FORM.get(self, self)


_CLIENT_FORM = {
    AlertCode.TWO_WAY_BY_SERVER: AlertCode.TWO_WAY,
    AlertCode.ONE_WAY_FROM_CLIENT_BY_SERVER: AlertCode.ONE_WAY_FROM_CLIENT,
    AlertCode.REFRESH_FROM_CLIENT_BY_SERVER: AlertCode.REFRESH_FROM_CLIENT,
    AlertCode.ONE_WAY_FROM_SERVER_BY_SERVER: AlertCode.ONE_WAY_FROM_SERVER,
    AlertCode.REFRESH_FROM_SERVER_BY_SERVER: AlertCode.REFRESH_FROM_SERVER,
}

# DevInf SyncCap SyncType (omads-protocol.md §3.2): 1..6 map to alerts 200..205, 7 = SAN.
SYNC_TYPE_FOR_ALERT = {AlertCode(200 + i): i + 1 for i in range(6)}
ALERT_FOR_SYNC_TYPE = {v: k for k, v in SYNC_TYPE_FOR_ALERT.items()}
SYNC_TYPE_SERVER_ALERTED = 7


class StatusCode(IntEnum):
    """Status ``Data`` values (SyncML RepPro 1.2 / DS Protocol 1.2)."""

    IN_PROGRESS = 101
    OK = 200
    ITEM_ADDED = 201
    ACCEPTED = 202
    NON_AUTHORITATIVE = 203
    NO_CONTENT = 204
    RESET_CONTENT = 205
    PARTIAL_CONTENT = 206
    CONFLICT_MERGED = 207
    CONFLICT_CLIENT_WON = 208
    CONFLICT_DUPLICATE = 209
    DELETE_WITHOUT_ARCHIVE = 210
    ITEM_NOT_DELETED = 211
    AUTH_ACCEPTED = 212
    CHUNK_ACCEPTED = 213
    OPERATION_CANCELLED_OK = 214
    NOT_EXECUTED = 215
    ATOMIC_ROLLBACK_OK = 216
    MULTIPLE_CHOICES = 300
    MOVED_PERMANENTLY = 301
    FOUND = 302
    SEE_OTHER = 303
    NOT_MODIFIED = 304
    USE_PROXY = 305
    BAD_REQUEST = 400
    INVALID_CREDENTIALS = 401
    PAYMENT_REQUIRED = 402
    FORBIDDEN = 403
    NOT_FOUND = 404
    COMMAND_NOT_ALLOWED = 405
    OPTIONAL_FEATURE_NOT_SUPPORTED = 406
    MISSING_CREDENTIALS = 407
    REQUEST_TIMEOUT = 408
    CONFLICT = 409
    GONE = 410
    SIZE_REQUIRED = 411
    INCOMPLETE_COMMAND = 412
    REQUEST_ENTITY_TOO_LARGE = 413
    URI_TOO_LONG = 414
    UNSUPPORTED_MEDIA_TYPE = 415
    REQUESTED_SIZE_TOO_BIG = 416
    RETRY_LATER = 417
    ALREADY_EXISTS = 418
    CONFLICT_SERVER_WON = 419
    DEVICE_FULL = 420
    UNKNOWN_SEARCH_GRAMMAR = 421
    BAD_CGI_SCRIPT = 422
    SOFT_DELETE_CONFLICT = 423
    SIZE_MISMATCH = 424
    PERMISSION_DENIED = 425
    PARTIAL_ITEM_NOT_ACCEPTED = 426
    ITEM_NOT_EMPTY = 427
    MOVE_FAILED = 428
    COMMAND_FAILED = 500
    NOT_IMPLEMENTED = 501
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    GATEWAY_TIMEOUT = 504
    DTD_VERSION_NOT_SUPPORTED = 505
    PROCESSING_ERROR = 506
    ATOMIC_FAILED = 507
    REFRESH_REQUIRED = 508
    RESERVED_509 = 509
    CANNOT_RESUME = 509         # SYSYNC's answer to a Resume it cannot take (§3.3)
    DATA_STORE_FAILURE = 510
    SERVER_FAILURE = 511
    SYNC_FAILED = 512
    PROTOCOL_VERSION_NOT_SUPPORTED = 513
    OPERATION_CANCELLED = 514
    ATOMIC_ROLLBACK_FAILED = 516
    ATOMIC_RESPONSE_TOO_LARGE = 517


def is_success(code: int) -> bool:
    """A 2xx status: the command was carried out (RepPro 1.2 §10)."""
    return 200 <= code < 300
