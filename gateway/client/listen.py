"""``omads-sync listen``: wait for Server Alerted Notifications and run the syncs they name.

Carriers (any combination): WDP over UDP (``--udp HOST:PORT``, port 2948 by default), SIP
MESSAGE over UDP (``--sip HOST:PORT``), SMS from a GSM modem (``--modem /dev/ttyX``), and
an OBEX server link (``--obex-listen tcp:PORT:interface=… | serial:/dev/ttyX``) over which
a gateway dials us, PUTs the SAN and runs the session (we are OBEX server and SyncML
client). Every carrier takes both SAN forms: the DS 1.2 binary package 0 and the SyncML
1.0/1.1 message (san_forms.py). A SAN with a bad digest, Cred or server id, or naming
none of our datastores, is logged and ignored. Syncs run one at a time; ``--once`` exits
after one.
"""

from __future__ import annotations

import dataclasses

from twisted.internet import defer
from twisted.internet.protocol import DatagramProtocol

from gateway.client import san_forms, sync
from gateway.client.report import summary
from gateway.client.obex_server import ObexClientLink
from gateway.ds.client.errors import ClientError
from gateway.notify import sip, sms
from gateway.notify.udh import Reassembler
from gateway.syncml.errors import DecodeError

WDP_PORT = 2948


def add_options(p) -> None:
    p.add_argument("--udp", help="WDP/UDP listen address HOST:PORT (default 127.0.0.1:2948 "
                   "when no other carrier is given)")
    p.add_argument("--sip", help="SIP (UDP) listen address HOST:PORT")
    p.add_argument("--modem", help="GSM modem serial device (SMS)")
    p.add_argument("--obex-listen", help="OBEX server link: tcp:PORT[:interface=IP] or "
                   "serial:/dev/ttyX")
    p.add_argument("--once", action="store_true", help="exit after the first alerted sync")
    p.add_argument("--server-id", help="expected SAN server id (overrides the profile)")
    p.add_argument("--server-password", help="SAN digest password (overrides the profile)")


def _hostport(text: str, default_port: int) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return "127.0.0.1", int(text) if text.isdigit() else default_port
    return host.strip("[]") or "127.0.0.1", int(port)


class Listener:
    def __init__(self, reactor, profile, args, stdout, stderr):
        self.reactor, self.profile, self.args = reactor, profile, args
        self.stdout, self.stderr = stdout, stderr
        n = profile.notify
        self.server_id = args.server_id if args.server_id is not None else n.server_id
        self.password = (args.server_password if args.server_password is not None
                         else n.server_password)
        self.nonce = n.nonce
        self.busy = False
        self.done: defer.Deferred = defer.Deferred()
        self.code = 0
        self.reassembler = Reassembler()

    def log(self, text: str) -> None:
        self.stderr.write(f"omads-sync listen: {text}\n")
        self.stderr.flush()

    def verdict(self, data: bytes, origin: str, content_type: str | None = None):
        """The accepted SAN (either form), or None after logging why it is ignored."""
        result = san_forms.check(data, content_type, server_id=self.server_id,
                                 password=self.password, nonce_b64=self.nonce,
                                 datastores=self.profile.settings.datastores)
        if isinstance(result, san_forms.Refused):
            self.log(f"ignored a notification from {origin}: {result.reason}")
            return None
        if self.busy:
            self.log(f"ignored a notification from {origin}: a sync is running")
            return None
        if isinstance(result, san_forms.LegacyAccepted):
            how = "with good credentials" if result.authenticated else "without credentials"
            origin = f"{origin} (SyncML {result.ver_dtd} form, {how})"
        self.log(f"notification from {origin}: syncing {result.modes}")
        return result

    def profile_for(self, accepted) -> object:
        settings = self.profile.settings
        stores = tuple(dataclasses.replace(ds, mode=accepted.modes[ds.local_uri])
                       for ds in settings.datastores if ds.local_uri in accepted.modes)
        return dataclasses.replace(self.profile, settings=dataclasses.replace(
            settings, datastores=stores))

    def on_san(self, data: bytes, origin: str, content_type: str | None = None) -> None:
        accepted = self.verdict(data, origin, content_type)
        if accepted is not None:
            defer.ensureDeferred(self._sync(self.profile_for(accepted)))

    async def _sync(self, profile) -> None:
        self.busy = True
        try:
            session = await sync.sync_profile(self.reactor, profile,
                                                  timeout=self.args.timeout,
                                                  verbose=self.args.verbose, stderr=self.stderr)
            self.stdout.write(summary(session) + "\n")
            self.stdout.flush()
            self.code = sync.result_code(session)
        except ClientError as exc:
            self.log(f"{exc.label}: {exc}")
            self.code = exc.exit_code
        finally:
            self.busy = False
        if self.args.once and not self.done.called:
            self.done.callback(None)

    # -- carriers ----------------------------------------------------------------------
    def on_wdp(self, datagram: bytes, origin: str) -> None:
        try:
            body, content_type = san_forms.unwrap_push(datagram)
            self.on_san(body, origin, content_type)
        except DecodeError as exc:
            self.log(f"ignored a datagram from {origin}: {exc}")

    def on_sip(self, datagram: bytes, addr, port) -> None:
        try:
            msg = sip.parse_message(datagram)
        except DecodeError as exc:
            self.log(f"ignored a SIP datagram from {addr[0]}: {exc}")
            return
        if not isinstance(msg, sip.SipRequest):
            return
        content_type = msg.header("Content-Type")
        extra: tuple[tuple[str, str], ...] = ()
        if msg.method != "MESSAGE":
            code, reason = 405, "Method Not Allowed"
            extra = (("Allow", "MESSAGE"),)
        elif not san_forms.acceptable(content_type):     # RFC 3428 §7: 415 with Accept
            code, reason = 415, "Unsupported Media Type"
            extra = (("Accept", ", ".join(san_forms.SAN_TYPES)),)
        else:   # a SAN we refuse is refused on the wire too: the sender sees why
            result = san_forms.check(msg.body, content_type, server_id=self.server_id,
                                     password=self.password, nonce_b64=self.nonce,
                                     datastores=self.profile.settings.datastores)
            if isinstance(result, san_forms.Refused):
                code, reason = 403, "Forbidden (" + _phrase(result.reason) + ")"
            else:
                code, reason = 200, "OK"
        keep = [(n, v) for n, v in msg.headers
                if sip.canonical_name(n) in ("Via", "From", "To", "Call-ID", "CSeq")]
        port.write(bytes(sip.SipResponse(status=code, reason=reason,
                                         headers=(*keep, *extra, ("Content-Length", "0")))),
                   addr)
        origin = f"SIP {addr[0]}:{addr[1]}"
        if code in (200, 403):       # syncs, or logs why it is ignored
            self.on_san(msg.body, origin, content_type)
        elif code == 415:
            self.log(f"ignored a notification from {origin}: content type "
                     f"{content_type!r} is not a SAN")

    def on_sms(self, pdu: bytes) -> None:
        try:
            deliver = sms.decode_deliver(pdu)
            whole = self.reassembler.add(sender=deliver.originator, udh=deliver.udh,
                                         data=deliver.user_data, now=self.reactor.seconds())
            if whole is not None:
                self.on_wdp(whole.data, f"SMS from {deliver.originator}")
        except DecodeError as exc:
            self.log(f"ignored an SMS: {exc}")


def _phrase(text: str) -> str:
    """A reason text fit for a SIP status line (printable ASCII, bounded)."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:120]


class _Udp(DatagramProtocol):
    def __init__(self, handler):
        self.handler = handler

    def datagramReceived(self, datagram, addr):
        self.handler(datagram, addr, self.transport)


async def listen(reactor, profile, args, stdout, stderr) -> int:
    listener = Listener(reactor, profile, args, stdout, stderr)
    n = profile.notify
    udp = args.udp or n.udp
    sip_at = args.sip or n.sip
    modem = args.modem or n.modem
    if not (udp or sip_at or modem or args.obex_listen):
        udp = f"127.0.0.1:{WDP_PORT}"
    ports = []
    if udp:
        host, port = _hostport(udp, WDP_PORT)
        ports.append(reactor.listenUDP(port, _Udp(
            lambda d, a, t: listener.on_wdp(d, f"{a[0]}:{a[1]}")), interface=host))
        listener.log(f"WDP/UDP on {host}:{ports[-1].getHost().port}")
    if sip_at:
        host, port = _hostport(sip_at, 5060)
        ports.append(reactor.listenUDP(port, _Udp(listener.on_sip), interface=host))
        listener.log(f"SIP/UDP on {host}:{ports[-1].getHost().port}")
    if modem:
        from gateway.transport.notify.modem_link import open_modem
        ports.append(open_modem(reactor, modem, listener.on_sms, listener.log))
    if args.obex_listen:
        ports.append(ObexClientLink.listen(reactor, args.obex_listen, listener))
    stderr.flush()
    try:
        await listener.done
    finally:
        for port in ports:
            stop = getattr(port, "stopListening", None) or getattr(port, "loseConnection")
            await defer.maybeDeferred(stop)
    return listener.code

