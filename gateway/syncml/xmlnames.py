"""Namespace and element-name tables of the XML codec (data, both directions).

Sources: OMA-TS-SyncML_RepPro-V1_2 / MetaInfo-V1_2 / DS_DevInf-V1_2 as digested in
reference/omads-protocol.md §1.1 (namespaces) and §2.3 (the MetInf element names).
"""

from __future__ import annotations

import re

from .tree import NS_DEVINF, NS_METINF, NS_SYNCML

# §1.1: the SyncML namespace carries the DTD version; receivers compare case-insensitively
# (`SYNCML:SYNCML1.2`, `syncml:SYNCML1.1`, `syncml:syncml1.0` are all seen on the wire).
SYNCML_NS_PREFIX = "syncml:syncml"
METINF_URI = "syncml:metinf"
DEVINF_URI = "syncml:devinf"

# What we write: the root SyncML namespace per SyncHdr/VerDTD (§1.1), default 1.2.
SYNCML_URI_BY_VERDTD = {
    "1.0": "SYNCML:SYNCML1.0",
    "1.1": "SYNCML:SYNCML1.1",
    "1.2": "SYNCML:SYNCML1.2",
}
DEFAULT_SYNCML_URI = SYNCML_URI_BY_VERDTD["1.2"]

NS_URI = {NS_METINF: METINF_URI, NS_DEVINF: DEVINF_URI}
"""Fixed namespace URIs we write (NS_SYNCML depends on the version, see above)."""

# §2.3: the MetInf DTD's element names (code page 1 of a SyncML WBXML message).  Used to
# infer NS_METINF for the children of <Meta> when a sender declares no namespace.
METINF_NAMES = frozenset({
    "Anchor", "EMI", "Format", "FreeID", "FreeMem", "Last", "Mark", "MaxMsgSize", "Mem",
    "MetInf", "Next", "NextNonce", "SharedMem", "Size", "Type", "Version", "MaxObjSize",
    "FieldLevel",
})

# XML 1.0 §2.3 Name (without ':' -- we never write prefixes).
_NAME_START = "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff" \
              "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd" \
              "\U00010000-\U000effff"
XML_NAME = re.compile(f"[{_NAME_START}][{_NAME_START}.0-9\u00b7\u0300-\u036f\u203f-\u2040-]*")

# XML 1.0 §2.2 Char: what a document may carry at all (as text or as a char reference).
XML_BAD_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# RFC 3986: characters a namespace URI cannot hold (libxml2 refuses such xmlns values).
URI_BAD_CHAR = re.compile(r'[\x00-\x20"<>\\^`{|}\x7f]')


def ns_from_uri(uri: str) -> str:
    """Map a namespace URI as read to NS_SYNCML / NS_METINF / NS_DEVINF, else keep it."""
    low = uri.lower()
    if low.startswith(SYNCML_NS_PREFIX):
        return NS_SYNCML
    if low == METINF_URI:
        return NS_METINF
    if low == DEVINF_URI:
        return NS_DEVINF
    return uri
