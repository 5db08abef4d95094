"""AT command lines, I/O-free: the one line reader and result-code reader of the gateway.

Both AT speakers use it: the serial OBEX preamble (``gateway.obex.at``: the phone's side
and the PC's side of ``AT+CPROT=0``) and the GSM modem driver (``gateway.notify.modem``).
Neither imports the other; both import this module, which imports nothing of the gateway.

Lines (ITU-T V.250): a command ends with CR, a verbose result code is framed by CR LF, so a
line ends at CR or LF and empty lines are skipped; what is left is read as latin-1 without
blanks or NULs around it. ``AT+CMGS`` answers with a ``"> "`` prompt that no line end
follows (3GPP TS 27.005), read by ``take_prompt``. Final result codes: ``OK``, ``ERROR`` and
``+CME ERROR: <n>`` / ``+CMS ERROR: <n>`` (TS 27.007 / TS 27.005), read by ``final_result``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LineBuffer", "FinalResult", "final_result", "CALL_RESULTS"]

_EOL = b"\r\n"
_BLANKS = " \t\x0b\x0c\x00"
_ERROR = re.compile(r"(?:ERROR|\+CM[ES] ERROR:\s*(.*))", re.IGNORECASE)
#: Result codes of a call or data connection that failed (V.250); a modem sends them
#: unsolicited too, when a call ends.
CALL_RESULTS = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalResult:
    """A final result code: ``ok`` for OK; ``code`` is the number of a ``+CME``/``+CMS
    ERROR`` in numeric form (None for ERROR or a text error); ``line`` as received."""

    ok: bool
    line: str
    code: int | None = None


def final_result(line: str) -> FinalResult | None:
    """The final result code ``line`` is, or None for any other line."""
    if line.upper() == "OK":
        return FinalResult(ok=True, line=line)
    m = _ERROR.fullmatch(line)
    if m is None:
        return None
    detail = (m.group(1) or "").strip()
    return FinalResult(ok=False, line=line, code=int(detail) if detail.isdigit() else None)


class LineBuffer:
    """Bytes from the line in, AT lines out."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_line(self, *, wait_for_lf: bool = False) -> str | None:
        """Pop the next non-empty line, or None when no complete one is buffered. With
        ``wait_for_lf`` a CR at the very end is not a line end yet (the LF of a verbose
        result code may follow)."""
        buf = self._buf
        while True:
            cut = min((i for i in (buf.find(b"\r"), buf.find(b"\n")) if i >= 0), default=-1)
            if cut < 0 or (wait_for_lf and buf[cut] == 0x0D and cut + 1 == len(buf)):
                return None
            line = bytes(buf[:cut]).decode("latin-1").strip(_BLANKS)
            del buf[:cut + 2 if buf[cut:cut + 2] == _EOL else cut + 1]
            if line:
                return line

    def take_prompt(self) -> bool:
        """Pop a ``>`` prompt (and the blank after it) at the head, after any line ends."""
        stripped = self._buf.lstrip(_EOL)
        if not stripped.startswith(b">"):
            return False
        skip = len(self._buf) - len(stripped) + (2 if stripped[1:2] == b" " else 1)
        del self._buf[:skip]
        return True

    def first_byte(self) -> int | None:
        """The first buffered byte after any line ends (None if there is none)."""
        stripped = self._buf.lstrip(_EOL)
        return stripped[0] if stripped else None

    def take_rest(self) -> bytes:
        """Pop everything buffered, without leading line ends (the line changes protocol)."""
        data = bytes(self._buf).lstrip(_EOL)
        self._buf.clear()
        return data

    def discard(self, *, keep: int = 0) -> None:
        """Drop what is buffered but its last ``keep`` bytes (an over-long line)."""
        del self._buf[:max(0, len(self._buf) - keep)]
