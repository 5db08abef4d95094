"""Sending a SAN over SIP without I/O: the non-INVITE client transaction (RFC 3261
§17.1.2) and a sender that answers digest challenges (§22.2, §22.3).

Timers: E retransmits over UDP at T1, 2·T1, ... capped at T2 (T2 in Proceeding); F ends
the transaction after 64·T1; K absorbs response retransmissions for T4 (0 on TCP).
Verbs (those of every core, in their datagram form: one SIP message per item):
``send(SendSan(body=...), now)`` and ``data_to_send()`` return the messages to send as a
list; ``receive_data(message, now)`` takes one (``b""``: the TCP connection closed),
``next_event()`` / ``events()``, ``next_deadline()``, ``handle_timeout(now)``. Randomness
comes from an injected ``rng``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, auto

from gateway.notify import sip, sip_auth
from gateway.notify.errors import SIPDecodeError
from gateway.errors import LocalProtocolError

T1, T2, T4 = 0.5, 4.0, 5.0      # RFC 3261 §17.1.1.1 defaults (seconds)


class TxState(Enum):
    TRYING = auto()
    PROCEEDING = auto()
    COMPLETED = auto()
    TERMINATED = auto()


class TxInput(Enum):
    PROVISIONAL = auto()
    FINAL = auto()
    TIMER_E = auto()
    TIMER_F = auto()
    TIMER_K = auto()
    TRANSPORT_ERROR = auto()


# RFC 3261 Figure 6 (non-INVITE client transaction); a transport error (here: the TCP
# connection closed) ends it in every state.
TX_TRANSITIONS: dict[tuple[TxState, TxInput], TxState] = {
    (TxState.TRYING, TxInput.PROVISIONAL): TxState.PROCEEDING,
    (TxState.TRYING, TxInput.FINAL): TxState.COMPLETED,
    (TxState.TRYING, TxInput.TIMER_E): TxState.TRYING,
    (TxState.TRYING, TxInput.TIMER_F): TxState.TERMINATED,
    (TxState.PROCEEDING, TxInput.PROVISIONAL): TxState.PROCEEDING,
    (TxState.PROCEEDING, TxInput.FINAL): TxState.COMPLETED,
    (TxState.PROCEEDING, TxInput.TIMER_E): TxState.PROCEEDING,
    (TxState.PROCEEDING, TxInput.TIMER_F): TxState.TERMINATED,
    (TxState.COMPLETED, TxInput.PROVISIONAL): TxState.COMPLETED,    # absorbed
    (TxState.COMPLETED, TxInput.FINAL): TxState.COMPLETED,          # absorbed
    (TxState.COMPLETED, TxInput.TIMER_K): TxState.TERMINATED,
    (TxState.TERMINATED, TxInput.PROVISIONAL): TxState.TERMINATED,
    (TxState.TERMINATED, TxInput.FINAL): TxState.TERMINATED,
    **{(state, TxInput.TRANSPORT_ERROR): TxState.TERMINATED for state in TxState},
}


class ClientTransaction:
    """One non-INVITE request until its final response or timer F."""

    def __init__(self, request: bytes, now: float, *, reliable: bool = False,
                 t1: float = T1, t2: float = T2, t4: float = T4):
        self.request = request
        self.state = TxState.TRYING
        self.reliable = reliable
        self.t1, self.t2, self.t4 = t1, t2, t4
        self.outbox: list[bytes] = [request]
        self.retransmissions = 0
        self._interval = t1
        self.timer_e: float | None = None if reliable else now + t1
        self.timer_f: float | None = now + 64 * t1
        self.timer_k: float | None = None

    def _move(self, inp: TxInput) -> TxState:
        try:
            self.state = TX_TRANSITIONS[(self.state, inp)]
        except KeyError:
            raise LocalProtocolError(f"SIP transaction: no transition for {inp.name} "
                                     f"in {self.state.name}") from None
        return self.state

    def receive_response(self, status: int, now: float) -> bool:
        """Feed a response; True if it is news for the transaction user (not absorbed)."""
        before = self.state
        if status < 200:
            self._move(TxInput.PROVISIONAL)
            if before is TxState.TRYING and self.timer_e is not None:
                self._interval = self.t2
            return before in (TxState.TRYING, TxState.PROCEEDING)
        self._move(TxInput.FINAL)
        if before in (TxState.TRYING, TxState.PROCEEDING):
            self.timer_e = self.timer_f = None
            self.timer_k = now + (0.0 if self.reliable else self.t4)
            return True
        return False

    def transport_error(self) -> None:
        """The connection is gone: the transaction ends, its timers stop."""
        self._move(TxInput.TRANSPORT_ERROR)
        self.timer_e = self.timer_f = self.timer_k = None

    def next_deadline(self) -> float | None:
        timers = [t for t in (self.timer_e, self.timer_f, self.timer_k) if t is not None]
        return min(timers) if timers else None

    def handle_timeout(self, now: float) -> bool:
        """Fire due timers; True if timer F fired (the request timed out)."""
        if self.timer_f is not None and now >= self.timer_f:
            self._move(TxInput.TIMER_F)
            self.timer_e = self.timer_f = None
            return True
        if self.timer_e is not None and now >= self.timer_e:
            self._move(TxInput.TIMER_E)
            self.outbox.append(self.request)
            self.retransmissions += 1
            if self.state is TxState.TRYING:
                self._interval = min(2 * self._interval, self.t2)
            else:
                self._interval = self.t2
            self.timer_e = now + self._interval
        if self.timer_k is not None and now >= self.timer_k:
            self._move(TxInput.TIMER_K)
            self.timer_k = None
        return False


# -- the SAN sender ----------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True, slots=True)
class SipConfig:
    target_uri: str                   # sip:+4912345678@ims.example
    from_uri: str                     # sip:omads@gateway.example
    via_host: str
    via_port: int = 5060
    transport: str = "UDP"
    method: str = "MESSAGE"           # or "NOTIFY"
    event: str | None = None          # NOTIFY only
    subscription_state: str = "terminated"
    accept_contact: str | None = sip.SAN_ACCEPT_CONTACT
    content_type: str = sip.SAN_CONTENT_TYPE   # the legacy 1.1 form: the SyncML type (§6.2)
    username: str | None = None
    password: str | None = None
    max_auth_attempts: int = 2
    t1: float = T1
    t2: float = T2
    t4: float = T4


@dataclass(frozen=True, kw_only=True, slots=True)
class SipDelivered:
    status: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SipFailed:
    status: int | None                # None: timer F (no final response)
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SipProvisional:
    status: int
    reason: str


SipEvent = SipDelivered | SipFailed | SipProvisional


@dataclass(frozen=True, kw_only=True, slots=True)
class SendSan:
    """The sender's one command: deliver ``body`` (the SAN) in a MESSAGE or NOTIFY."""

    body: bytes


def _token(rng: random.Random, bits: int = 64) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


class SanSender:
    """Delivers one SAN body in a MESSAGE/NOTIFY and follows it to a final outcome."""

    def __init__(self, config: SipConfig, *, rng: random.Random):
        self.config = config
        self.body = b""
        self._rng = rng
        self.call_id = f"{_token(rng, 96)}@{config.via_host}"
        self.from_tag = _token(rng, 32)
        self.cseq = rng.randrange(1, 1 << 16)
        self.auth_attempts = 0
        self._nc: dict[str, int] = {}
        self._events: deque[SipEvent] = deque()
        self.done = False
        self.tx: ClientTransaction | None = None
        self.branch = ""
        self.request: sip.SipRequest

    def send(self, command: SendSan, now: float) -> list[bytes]:
        """Start the transaction; returns the messages to send (as ``data_to_send()``).
        A body too large for UDP raises ValueError (RFC 3428 §4: use TCP)."""
        if not isinstance(command, SendSan):
            raise LocalProtocolError(f"the SAN sender cannot send {type(command).__name__}")
        if self.tx is not None:
            raise LocalProtocolError("one SanSender sends one SAN")
        if self.config.transport.upper() == "UDP" and \
                len(command.body) > sip.MAX_UDP_MESSAGE - 500:
            raise ValueError("SAN too large for a UDP MESSAGE; use TCP (RFC 3428 §4)")
        self.body = command.body
        self._request(now, ())
        return self.data_to_send()

    def _request(self, now: float, auth: tuple[tuple[str, str], ...]) -> None:
        c = self.config
        self.branch = sip.BRANCH_MAGIC + _token(self._rng, 64)
        extra = sip.san_headers(method=c.method, accept_contact=c.accept_contact,
                                event=c.event, subscription_state=c.subscription_state)
        self.request = sip.build_request(
            method=c.method, request_uri=c.target_uri, to_uri=c.target_uri, from_uri=c.from_uri,
            from_tag=self.from_tag, call_id=self.call_id, cseq=self.cseq, branch=self.branch,
            via_host=c.via_host, via_port=c.via_port, transport=c.transport, body=self.body,
            content_type=c.content_type, extra_headers=extra + auth)
        self.tx = ClientTransaction(bytes(self.request), now, t1=c.t1, t2=c.t2, t4=c.t4,
                                    reliable=c.transport.upper() != "UDP")

    # -- verbs --------------------------------------------------------------------------------

    def receive_data(self, datagram: bytes, now: float) -> None:
        """One message from the network (``b""``: the connection closed); stray or
        unparsable ones raise SIPDecodeError (the caller logs and drops them; the
        transaction is unaffected)."""
        if self.tx is None:
            raise LocalProtocolError("send(SendSan(...)) first")
        if not datagram:
            self.tx.transport_error()
            if not self.done:
                self._finish(SipFailed(status=None, reason="connection closed"))
            return
        msg = sip.parse_message(datagram)
        if not isinstance(msg, sip.SipResponse):
            raise SIPDecodeError(f"expected a response, got {msg.method}")
        if sip.top_via_branch(msg) != self.branch or sip.cseq_of(msg) != (
                self.cseq, self.config.method):
            return                                     # not ours (or an old transaction)
        if not self.tx.receive_response(msg.status, now) or self.done:
            return
        if msg.status < 200:
            self._events.append(SipProvisional(status=msg.status, reason=msg.reason))
        elif msg.status < 300:
            self._finish(SipDelivered(status=msg.status, reason=msg.reason))
        elif msg.status in (401, 407) and self._answer_challenge(msg, now):
            return
        else:
            self._finish(SipFailed(status=msg.status, reason=msg.reason))

    def data_to_send(self) -> list[bytes]:
        if self.tx is None:
            return []
        out, self.tx.outbox = self.tx.outbox, []
        return out

    def next_event(self) -> SipEvent | None:
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[SipEvent]:
        while self._events:
            yield self._events.popleft()

    def next_deadline(self) -> float | None:
        return None if self.tx is None else self.tx.next_deadline()

    def handle_timeout(self, now: float) -> None:
        if self.tx is not None and self.tx.handle_timeout(now) and not self.done:
            self._finish(SipFailed(status=None, reason="timeout (timer F)"))

    # -- internals ------------------------------------------------------------------------

    def _finish(self, event: SipEvent) -> None:
        self.done = True
        self._events.append(event)

    def _answer_challenge(self, msg: sip.SipResponse, now: float) -> bool:
        c = self.config
        if c.username is None or c.password is None or self.auth_attempts >= c.max_auth_attempts:
            return False
        proxy = msg.status == 407
        auth: list[tuple[str, str]] = []
        for value in msg.header_values("Proxy-Authenticate" if proxy else "WWW-Authenticate"):
            try:
                ch = sip_auth.parse_challenge(value)
                nc = self._nc[ch.nonce] = self._nc.get(ch.nonce, 0) + 1
                auth.append(("Proxy-Authorization" if proxy else "Authorization",
                             sip_auth.authorization(ch, username=c.username, password=c.password,
                                                    method=c.method, uri=c.target_uri, nc=nc,
                                                    cnonce=_token(self._rng, 64),
                                                    body=self.body)))
                break
            except (SIPDecodeError, ValueError):
                continue                               # try the next challenge offered
        if not auth:
            return False
        self.auth_attempts += 1
        self.cseq += 1
        self._request(now, tuple(auth))
        return True
