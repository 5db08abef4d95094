"""GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing.

Used for alphanumeric originating addresses and 7-bit user data of received SMS; the
notifications we send are 8-bit data.
"""

from __future__ import annotations

# 3GPP TS 23.038 §6.2.1 default alphabet, index = septet value; 0x1B is the escape to the
# extension table (§6.2.1.1), kept here as a non-breaking space placeholder.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\u00a0ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
ESCAPE = 0x1B
# 3GPP TS 23.038 §6.2.1.1 extension table (after ESC).
EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
             0x3E: "]", 0x40: "|", 0x65: "€"}
ENCODE = {ch: i for i, ch in enumerate(DEFAULT_ALPHABET) if i != ESCAPE}
ENCODE_EXTENSION = {ch: i for i, ch in EXTENSION.items()}


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """``count`` septets packed LSB first in ``data``, after ``fill_bits`` padding bits."""
    out = bytearray()
    bit = fill_bits
    for _ in range(count):
        byte, shift = divmod(bit, 8)
        if byte >= len(data):
            break
        value = data[byte] >> shift
        if shift > 1 and byte + 1 < len(data):
            value |= data[byte + 1] << (8 - shift)
        out.append(value & 0x7F)
        bit += 7
    return bytes(out)


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Inverse of ``unpack_septets``."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def decode_gsm7(septets: bytes) -> str:
    """Text of unpacked septets; an unknown escape gives the base character (TS 23.038)."""
    out = []
    escaped = False
    for s in septets:
        if escaped:
            out.append(EXTENSION.get(s, DEFAULT_ALPHABET[s]))
            escaped = False
        elif s == ESCAPE:
            escaped = True
        else:
            out.append(DEFAULT_ALPHABET[s])
    return "".join(out)


def encode_gsm7(text: str) -> bytes:
    """Septets for ``text``; ``ValueError`` on a character the alphabet lacks."""
    out = bytearray()
    for ch in text:
        if ch in ENCODE:
            out.append(ENCODE[ch])
        elif ch in ENCODE_EXTENSION:
            out += bytes((ESCAPE, ENCODE_EXTENSION[ch]))
        else:
            raise ValueError(f"{ch!r} is not in the GSM 7-bit alphabet")
    return bytes(out)
