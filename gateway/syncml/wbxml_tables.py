"""WBXML token tables for SyncML, MetInf and DevInf, as data.

Each table maps a tag token to its element name and serves both directions: the codec
builds the reverse dicts (name -> token) from it. Sources are the sections of
``shared/reference/omads-protocol.md`` named at each table (restated there from
OMA-TS-SyncML_RepPro-V1_2, OMA-TS-SyncML_MetaInfo-V1_2, OMA-TS-DS_DevInf-V1_2,
WAP-192-WBXML and the IANA character-set registry).
"""

from __future__ import annotations

from types import MappingProxyType

from gateway.syncml.tree import NS_DEVINF, NS_METINF, NS_SYNCML

# -- Global tokens, valid on every code page (WAP-192-WBXML table 4; protocol.md §2.1) ----
SWITCH_PAGE = 0x00
END = 0x01
ENTITY = 0x02
STR_I = 0x03
LITERAL = 0x04
EXT_I_0, EXT_I_1, EXT_I_2 = 0x40, 0x41, 0x42
PI = 0x43
LITERAL_C = 0x44
EXT_T_0, EXT_T_1, EXT_T_2 = 0x80, 0x81, 0x82
STR_T = 0x83
LITERAL_A = 0x84
EXT_0, EXT_1, EXT_2 = 0xC0, 0xC1, 0xC2
OPAQUE = 0xC3
LITERAL_AC = 0xC4

TAG_CONTENT = 0x40     # tag byte flag: the element has content
TAG_ATTRIBUTES = 0x80  # tag byte flag: the element has attributes
TAG_MASK = 0x3F

# WBXML version bytes we accept: 1.0 .. 1.3 (protocol.md §2.1). WBXML 1.0 has no charset field.
VERSIONS = frozenset({0x00, 0x01, 0x02, 0x03})
VERSION_10 = 0x00

# -- Code page 0 of the SyncML document: RepPro 1.2 (protocol.md §2.2) -----------------
# 1.1 ends at 0x34, 1.2 adds 0x35-0x3C; the 1.2 table is a superset used for every version
# (Nokia sends SourceParent 0x39 in 1.1). 0x30 is reserved.
SYNCML_TAGS = MappingProxyType({
    0x05: "Add", 0x06: "Alert", 0x07: "Archive", 0x08: "Atomic", 0x09: "Chal",
    0x0A: "Cmd", 0x0B: "CmdID", 0x0C: "CmdRef", 0x0D: "Copy", 0x0E: "Cred",
    0x0F: "Data", 0x10: "Delete", 0x11: "Exec", 0x12: "Final", 0x13: "Get",
    0x14: "Item", 0x15: "Lang", 0x16: "LocName", 0x17: "LocURI", 0x18: "Map",
    0x19: "MapItem", 0x1A: "Meta", 0x1B: "MsgID", 0x1C: "MsgRef", 0x1D: "NoResp",
    0x1E: "NoResults", 0x1F: "Put", 0x20: "Replace", 0x21: "RespURI", 0x22: "Results",
    0x23: "Search", 0x24: "Sequence", 0x25: "SessionID", 0x26: "SftDel", 0x27: "Source",
    0x28: "SourceRef", 0x29: "Status", 0x2A: "Sync", 0x2B: "SyncBody", 0x2C: "SyncHdr",
    0x2D: "SyncML", 0x2E: "Target", 0x2F: "TargetRef", 0x31: "VerDTD", 0x32: "VerProto",
    0x33: "NumberOfChanges", 0x34: "MoreData",
    0x35: "Field", 0x36: "Filter", 0x37: "Record", 0x38: "FilterType",
    0x39: "SourceParent", 0x3A: "TargetParent", 0x3B: "Move", 0x3C: "Correlator",
})
SYNCML_PAGE = 0x00

# -- Code page 1 of the SyncML document: MetInf 1.2 (protocol.md §2.3) -----------------
METINF_TAGS = MappingProxyType({
    0x05: "Anchor", 0x06: "EMI", 0x07: "Format", 0x08: "FreeID", 0x09: "FreeMem",
    0x0A: "Last", 0x0B: "Mark", 0x0C: "MaxMsgSize", 0x0D: "Mem", 0x0E: "MetInf",
    0x0F: "Next", 0x10: "NextNonce", 0x11: "SharedMem", 0x12: "Size", 0x13: "Type",
    0x14: "Version", 0x15: "MaxObjSize", 0x16: "FieldLevel",
})
METINF_PAGE = 0x01

# -- Code page 0 of the DevInf document: DevInf 1.2 (protocol.md §2.4) -----------------
# 0x2F is unassigned. 0x1C is ``MaxSize`` in 1.2 and ``Size`` in 1.0/1.1 (same token).
DEVINF_TAGS = MappingProxyType({
    0x05: "CTCap", 0x06: "CTType", 0x07: "DataStore", 0x08: "DataType", 0x09: "DevID",
    0x0A: "DevInf", 0x0B: "DevTyp", 0x0C: "DisplayName", 0x0D: "DSMem", 0x0E: "Ext",
    0x0F: "FwV", 0x10: "HwV", 0x11: "Man", 0x12: "MaxGUIDSize", 0x13: "MaxID",
    0x14: "MaxMem", 0x15: "Mod", 0x16: "OEM", 0x17: "ParamName", 0x18: "PropName",
    0x19: "Rx", 0x1A: "Rx-Pref", 0x1B: "SharedMem", 0x1C: "MaxSize", 0x1D: "SourceRef",
    0x1E: "SwV", 0x1F: "SyncCap", 0x20: "SyncType", 0x21: "Tx", 0x22: "Tx-Pref",
    0x23: "ValEnum", 0x24: "VerCT", 0x25: "VerDTD", 0x26: "XNam", 0x27: "XVal",
    0x28: "UTC", 0x29: "SupportNumberOfChanges", 0x2A: "SupportLargeObjs",
    0x2B: "Property", 0x2C: "PropParam", 0x2D: "MaxOccur", 0x2E: "NoTruncate",
    0x30: "Filter-Rx", 0x31: "FilterCap", 0x32: "FilterKeyword", 0x33: "FieldLevel",
    0x34: "SupportHierarchicalSync",
})
DEVINF_PAGE = 0x00
# DevInf 1.0/1.1 spell token 0x1C ``Size`` (protocol.md §2.4, "1.1 differences").
DEVINF_11_RENAMES = MappingProxyType({0x1C: "Size"})

# -- WBXML public identifiers (protocol.md §1.1) ---------------------------------------
PUBLIC_ID_UNKNOWN = 0x01
SYNCML_PUBLIC_IDS = MappingProxyType({"1.0": 0x0FD1, "1.1": 0x0FD3, "1.2": 0x1201})
DEVINF_PUBLIC_IDS = MappingProxyType({"1.0": 0x0FD2, "1.1": 0x0FD4, "1.2": 0x1203})
METINF_PUBLIC_IDS = MappingProxyType({"1.2": 0x1202})
# Textual FPIs (compared case-insensitively; "MetaInf" is Kannel's spelling).
SYNCML_FPIS = MappingProxyType({v: f"-//SYNCML//DTD SyncML {v}//EN" for v in ("1.0", "1.1", "1.2")})
DEVINF_FPIS = MappingProxyType({v: f"-//SYNCML//DTD DevInf {v}//EN" for v in ("1.0", "1.1", "1.2")})

# -- Character sets: IANA MIBenum -> Python codec (IANA "Character Sets" registry;
#    protocol.md §2.1 for UTF-8 = 106). 0 means "unknown" in WBXML: read as UTF-8. ------
CHARSET_UTF8 = 106
CHARSETS = MappingProxyType({
    0: "utf-8",
    3: "ascii", 4: "latin-1", 5: "iso8859-2", 6: "iso8859-3", 7: "iso8859-4",
    8: "iso8859-5", 9: "iso8859-6", 10: "iso8859-7", 11: "iso8859-8", 12: "iso8859-9",
    13: "iso8859-10", 17: "shift_jis", 18: "euc_jp", 37: "iso2022_kr", 38: "euc_kr",
    39: "iso2022_jp", 40: "iso2022_jp_2", 106: "utf-8", 109: "iso8859-13",
    110: "iso8859-14", 111: "iso8859-15", 112: "iso8859-16", 113: "gbk", 114: "gb18030",
    1000: "utf-16-be",   # ISO-10646-UCS-2
    1001: "utf-32-be",   # ISO-10646-UCS-4
    1013: "utf-16-be", 1014: "utf-16-le", 1015: "utf-16",
    1017: "utf-32", 1018: "utf-32-be", 1019: "utf-32-le",
    2025: "gb2312", 2026: "big5", 2084: "koi8-r", 2088: "koi8-u",
    2250: "cp1250", 2251: "cp1251", 2252: "cp1252", 2253: "cp1253", 2254: "cp1254",
    2255: "cp1255", 2256: "cp1256", 2257: "cp1257", 2258: "cp1258",
})
# Width in bytes of the NUL that terminates an inline string in that charset.
CHARSET_NUL_WIDTH = MappingProxyType({1000: 2, 1013: 2, 1014: 2, 1015: 2,
                                      1001: 4, 1017: 4, 1018: 4, 1019: 4})


# -- Derived lookups, both directions, built from the tables above ----------------------

def _page_names(table, renames=None):
    """A 64-entry tuple: tag token (low 6 bits of the tag byte) -> element name or None."""
    names = [None] * 64
    for tok, name in {**table, **(renames or {})}.items():
        names[tok] = name
    return tuple(names)


def _token_table(pages, aliases=()):
    """(namespace, name) -> (page, tag byte without content, tag byte with content)."""
    table = {}
    for page, (names, ns) in pages.items():
        for tok, name in [(t, n) for t, n in enumerate(names) if n is not None] + list(aliases):
            table[(ns, name)] = (page, bytes((tok,)), bytes((tok | TAG_CONTENT,)))
    return MappingProxyType(table)


# code page -> (token -> name, namespace), per document kind
SYNCML_PAGES = MappingProxyType({SYNCML_PAGE: (_page_names(SYNCML_TAGS), NS_SYNCML),
                                 METINF_PAGE: (_page_names(METINF_TAGS), NS_METINF)})
DEVINF_PAGES = MappingProxyType({DEVINF_PAGE: (_page_names(DEVINF_TAGS), NS_DEVINF)})
DEVINF11_PAGES = MappingProxyType(
    {DEVINF_PAGE: (_page_names(DEVINF_TAGS, DEVINF_11_RENAMES), NS_DEVINF)})
SYNCML_TOKENS = _token_table(SYNCML_PAGES)
DEVINF_TOKENS = _token_table(DEVINF_PAGES, DEVINF_11_RENAMES.items())   # "Size" and "MaxSize"

DEVINF_IDS = frozenset(DEVINF_PUBLIC_IDS.values())
DEVINF_OLD_IDS = frozenset({DEVINF_PUBLIC_IDS["1.0"], DEVINF_PUBLIC_IDS["1.1"]})
SYNCML_DOC_IDS = frozenset(SYNCML_PUBLIC_IDS.values()) | frozenset(METINF_PUBLIC_IDS.values())
