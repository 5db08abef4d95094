"""A GSM modem (DCE) simulator for tests, in memory.

It follows the dialogue of ../shared/peers/notify-obex/fake_modem.py (which gammu and Kannel
accept): echo until ATE0, ``\\r\\nOK\\r\\n`` results, ``AT+CMGS=<n>`` answered with
``\\r\\n> `` (no line end), the body read up to Ctrl-Z (ESC cancels with OK), the TPDU length
checked, ``+CMGS: <mr>``, ERROR / ``+CMS ERROR: 304`` for a bad PDU. It adds what that
script lacks: SIM PIN, SMS storage (+CMTI, AT+CMGR, AT+CMGD) and scripted faults.
"""

from __future__ import annotations

import re


class ModemSim:
    def __init__(self, *, pin: str | None = None, cmee: int = 0, cms_error: int | None = None,
                 drop_prompt: bool = False, silent: frozenset[str] = frozenset(),
                 echo_pdu: bool = False):
        self.echo = True
        self.cmgf = 0
        self.cmee = cmee
        self.mr = 0
        self.pin = pin                  # PIN the SIM wants (None: READY)
        self.pin_ok = pin is None
        self.cms_error = cms_error      # answer every CMGS with this +CMS ERROR
        self.drop_prompt = drop_prompt  # enter body mode without sending "> "
        self.silent = silent            # commands (upper case) that get no answer
        self.echo_pdu = echo_pdu
        self.mode = "cmd"
        self.pending_len = 0
        self.buf = b""
        self.commands: list[str] = []
        self.submitted: list[tuple[str, int]] = []
        self.storage: dict[int, str] = {}
        self.cancelled = 0

    def deliver(self, pdu_hex: str, index: int) -> bytes:
        """Store an incoming SMS and return the +CMTI indication."""
        self.storage[index] = pdu_hex
        return f'\r\n+CMTI: "SM",{index}\r\n'.encode()

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = b""
        while True:
            if self.mode == "body":
                m = re.search(rb"[\x1a\x1b]", self.buf)
                if not m:
                    break
                body, term = self.buf[:m.start()], self.buf[m.start():m.end()]
                self.buf = self.buf[m.end():]
                self.mode = "cmd"
                if self.echo_pdu:
                    out += body + term
                if term == b"\x1b":
                    self.cancelled += 1
                    out += b"\r\nOK\r\n"
                    continue
                out += self._submit(body.decode("latin-1").strip())
                continue
            i = self.buf.find(b"\r")
            if i < 0:
                break
            line, self.buf = self.buf[:i], self.buf[i + 1:]
            if self.buf.startswith(b"\n"):
                self.buf = self.buf[1:]
            if self.echo:
                out += line + b"\r"
            out += self._command(line.decode("latin-1").strip().lstrip("\x1a\x1b").strip())
        return out

    def _submit(self, body: str) -> bytes:
        try:
            raw = bytes.fromhex(body)
            tpdu = raw[1 + raw[0]:]
            good = len(tpdu) == self.pending_len and tpdu[0] & 3 == 1
        except (ValueError, IndexError):
            good = False
        if not good or self.cms_error is not None:
            code = self.cms_error if self.cms_error is not None else 304
            return f"\r\n+CMS ERROR: {code}\r\n".encode() if self.cmee else b"\r\nERROR\r\n"
        self.mr = (self.mr + 1) % 256
        self.submitted.append((body, self.pending_len))
        return f"\r\n+CMGS: {self.mr}\r\n\r\nOK\r\n".encode()

    def _command(self, cmd: str) -> bytes:
        if not cmd:
            return b""
        self.commands.append(cmd)
        u = cmd.upper()
        if u in self.silent:
            return b""
        ok, err = b"\r\nOK\r\n", b"\r\nERROR\r\n"
        if not u.startswith("AT"):
            return err
        b = u[2:]
        if b.startswith("+CMGS="):
            self.pending_len = int(b[6:])
            self.mode = "body"
            return b"" if self.drop_prompt else b"\r\n> "
        if b in ("", "E0", "E1", "Z"):
            self.echo = b != "E0"
            return ok
        if b == "+CPIN?":
            state = "READY" if self.pin_ok else "SIM PIN"
            return f"\r\n+CPIN: {state}\r\n".encode() + ok
        m = re.fullmatch(r'\+CPIN="?(\d+)"?', b)
        if m:
            self.pin_ok = m.group(1) == self.pin
            return ok if self.pin_ok else b"\r\n+CME ERROR: 16\r\n"
        if not self.pin_ok:
            return b"\r\n+CME ERROR: 11\r\n"
        if b.startswith("+CMGF="):
            self.cmgf = int(b[6:])
            return ok
        if b.startswith("+CMEE="):
            self.cmee = int(b[6:])
            return ok
        if b.startswith("+CNMI="):
            return ok
        m = re.fullmatch(r"\+CMGR=(\d+)", b)
        if m:
            pdu = self.storage.get(int(m.group(1)))
            if pdu is None:
                return b"\r\n+CMS ERROR: 321\r\n"
            tpdu_len = len(pdu) // 2 - 1 - int(pdu[:2], 16)     # without the SMSC part
            return f"\r\n+CMGR: 0,,{tpdu_len}\r\n{pdu}\r\n".encode() + ok
        m = re.fullmatch(r"\+CMGD=(\d+)", b)
        if m:
            self.storage.pop(int(m.group(1)), None)
            return ok
        return err
