"""Number tables shared by the SAN and WSP codecs (data only; one table, both directions).

Sources: WAP-230 WSP (Table 39 header field names, Table 40 content types) and the OMNA
registries, as carried by Kannel ``wap/wsp_strings.def``; SAN content-type numbers as used
by SyncEvolution/Buteo (omads-protocol.md §6.3, §7.1).
"""

from __future__ import annotations

# WAP-230 WSP Table 40 (well-known content types 0x00-0x36) and later OMNA assignments
# (0x42-0x58 SyncML/DM, 0x0300+ registered numbers) - omads-protocol.md §6.3, §7.1.
CONTENT_TYPES: dict[int, str] = {
    0x00: "*/*", 0x01: "text/*", 0x02: "text/html", 0x03: "text/plain",
    0x04: "text/x-hdml", 0x05: "text/x-ttml", 0x06: "text/x-vcalendar", 0x07: "text/x-vcard",
    0x08: "text/vnd.wap.wml", 0x09: "text/vnd.wap.wmlscript", 0x0A: "application/vnd.wap.catc",
    0x0B: "multipart/*", 0x0C: "multipart/mixed", 0x0D: "multipart/form-data",
    0x0E: "multipart/byteranges", 0x0F: "multipart/alternative", 0x10: "application/*",
    0x11: "application/java-vm", 0x12: "application/x-www-form-urlencoded",
    0x13: "application/x-hdmlc", 0x14: "application/vnd.wap.wmlc",
    0x15: "application/vnd.wap.wmlscriptc", 0x16: "application/vnd.wap.wsic",
    0x17: "application/vnd.wap.uaprof", 0x18: "application/vnd.wap.wtls-ca-certificate",
    0x19: "application/vnd.wap.wtls-user-certificate", 0x1A: "application/x-x509-ca-cert",
    0x1B: "application/x-x509-user-cert", 0x1C: "image/*", 0x1D: "image/gif",
    0x1E: "image/jpeg", 0x1F: "image/tiff", 0x20: "image/png", 0x21: "image/vnd.wap.wbmp",
    0x22: "application/vnd.wap.multipart.*", 0x23: "application/vnd.wap.multipart.mixed",
    0x24: "application/vnd.wap.multipart.form-data",
    0x25: "application/vnd.wap.multipart.byteranges",
    0x26: "application/vnd.wap.multipart.alternative", 0x27: "application/xml",
    0x28: "text/xml", 0x29: "application/vnd.wap.wbxml", 0x2A: "application/x-x968-cross-cert",
    0x2B: "application/x-x968-ca-cert", 0x2C: "application/x-x968-user-cert",
    0x2D: "text/vnd.wap.si", 0x2E: "application/vnd.wap.sic", 0x2F: "text/vnd.wap.sl",
    0x30: "application/vnd.wap.slc", 0x31: "text/vnd.wap.co", 0x32: "application/vnd.wap.coc",
    0x33: "application/vnd.wap.multipart.related", 0x34: "application/vnd.wap.sia",
    0x35: "text/vnd.wap.connectivity-xml", 0x36: "application/vnd.wap.connectivity-wbxml",
    # OMNA WSP content types (omads-protocol.md §7.1)
    0x42: "application/vnd.syncml.dm+wbxml", 0x43: "application/vnd.syncml.dm+xml",
    0x44: "application/vnd.syncml.notification", 0x4E: "application/vnd.syncml.ds.notification",
    0x58: "application/vnd.syncml.dm.notification",
    # OMNA registered numbers used in the SAN 24-bit field (omads-protocol.md §6.3)
    0x0302: "application/vnd.syncml+xml", 0x0303: "application/vnd.syncml+wbxml",
    0x0305: "text/calendar", 0x0306: "application/vnd.omads-email+xml",
    0x0307: "application/vnd.omads-file+xml", 0x0308: "application/vnd.omads-folder+xml",
    0x0309: "text/directory;profile=vCard",
}
CONTENT_TYPE_CODES: dict[str, int] = {v.lower(): k for k, v in CONTENT_TYPES.items()}

# SAN: newer MIME types sent as the older number most phones know (SyncEvolution's default
# downgrade, omads-protocol.md §6.3). ``san_content_code(..., downgrade=False)`` skips it.
SAN_DOWNGRADE: dict[str, str] = {
    "text/vcard": "text/x-vcard",
    "text/calendar": "text/x-vcalendar",
}
# Without downgrade, text/vcard 3.0 has this registered number (§6.3).
SAN_ALIASES: dict[str, str] = {"text/vcard": "text/directory;profile=vcard"}

# WAP-230 WSP Table 39: well-known header field names (the code is OR-ed with 0x80 on the wire).
HEADER_FIELDS: dict[int, str] = {
    0x00: "Accept", 0x01: "Accept-Charset", 0x02: "Accept-Encoding", 0x03: "Accept-Language",
    0x04: "Accept-Ranges", 0x05: "Age", 0x06: "Allow", 0x07: "Authorization",
    0x08: "Cache-Control", 0x09: "Connection", 0x0A: "Content-Base", 0x0B: "Content-Encoding",
    0x0C: "Content-Language", 0x0D: "Content-Length", 0x0E: "Content-Location",
    0x0F: "Content-MD5", 0x10: "Content-Range", 0x11: "Content-Type", 0x12: "Date",
    0x13: "Etag", 0x14: "Expires", 0x15: "From", 0x16: "Host", 0x17: "If-Modified-Since",
    0x18: "If-Match", 0x19: "If-None-Match", 0x1A: "If-Range", 0x1B: "If-Unmodified-Since",
    0x1C: "Location", 0x1D: "Last-Modified", 0x1E: "Max-Forwards", 0x1F: "Pragma",
    0x20: "Proxy-Authenticate", 0x21: "Proxy-Authorization", 0x22: "Public", 0x23: "Range",
    0x24: "Referer", 0x25: "Retry-After", 0x26: "Server", 0x27: "Transfer-Encoding",
    0x28: "Upgrade", 0x29: "User-Agent", 0x2A: "Vary", 0x2B: "Via", 0x2C: "Warning",
    0x2D: "WWW-Authenticate", 0x2E: "Content-Disposition", 0x2F: "X-Wap-Application-Id",
    0x30: "X-Wap-Content-URI", 0x31: "X-Wap-Initiator-URI", 0x32: "Accept-Application",
    0x33: "Bearer-Indication", 0x34: "Push-Flag", 0x35: "Profile", 0x36: "Profile-Diff",
    0x37: "Profile-Warning", 0x38: "Expect", 0x39: "TE", 0x3A: "Trailer",
    0x3B: "Accept-Charset", 0x3C: "Accept-Encoding", 0x3D: "Cache-Control",
    0x3E: "Content-Range", 0x3F: "X-Wap-Tod", 0x40: "Content-ID", 0x41: "Set-Cookie",
    0x42: "Cookie", 0x43: "Encoding-Version",
}
HEADER_FIELD_CODES: dict[str, int] = {}
for _code, _name in HEADER_FIELDS.items():
    HEADER_FIELD_CODES.setdefault(_name.lower(), _code)   # first (WSP 1.1) code wins
del _code, _name

# WINA/OMNA push application ids (Kannel wsp_strings.def ``application_id``; §7.1).
PUSH_APP_IDS: dict[int, str] = {
    0x00: "*", 0x01: "push.sia", 0x02: "wml.ua", 0x03: "wta.ua", 0x04: "mms.ua",
    0x05: "push.syncml", 0x06: "loc.ua", 0x07: "syncml.dm", 0x08: "drm.ua", 0x09: "emn.ua",
    0x0A: "wv.ua",
}
PUSH_APP_ID_CODES: dict[str, int] = {v: k for k, v in PUSH_APP_IDS.items()}
APP_ID_PREFIX = "x-wap-application:"

# WAP-230 WSP §8.2.1 PDU types used here.
PDU_PUSH = 0x06
PDU_CONFIRMED_PUSH = 0x07


def content_type_name(code: int) -> str | None:
    return CONTENT_TYPES.get(code)


def content_type_code(mime: str) -> int | None:
    """The registered number of a media type (case-insensitive, spaces ignored)."""
    return CONTENT_TYPE_CODES.get(mime.replace(" ", "").lower())


def san_content_code(mime: str | None, *, downgrade: bool = True) -> int:
    """The SAN 24-bit content-type number for a MIME type; 0 (unspecified) if unknown."""
    if not mime:
        return 0
    key = mime.replace(" ", "").lower()
    if downgrade:
        key = SAN_DOWNGRADE.get(key, key)
    else:
        key = SAN_ALIASES.get(key, key)
    return CONTENT_TYPE_CODES.get(key, 0)
