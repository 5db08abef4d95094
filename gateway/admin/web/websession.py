"""Logins to the admin pages: a random session id in a cookie (HttpOnly, SameSite=Strict,
Secure over TLS), kept in this node's memory, each with its CSRF token.

Every page needs a logged-in session; every POST must carry the session's CSRF token in
the form (``csrf``). The login form itself gets an anonymous session first, so the
login POST is checked the same way; a successful login starts a new session (a new id:
no fixation). Sessions end after ``timeout`` seconds without a request, or at logout.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COOKIE", "WebSession", "WebSessions"]

COOKIE = b"omads_admin"
ANONYMOUS_TIMEOUT = 600.0
MAX_SESSIONS = 2000


@dataclass
class WebSession:
    sid: str
    user: str | None
    csrf: str
    expires: float
    flash: list[tuple[str, str]] = field(default_factory=list)   # (kind, text) to show once

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), token.encode())


class WebSessions:
    def __init__(self, clock: Any, *, timeout: float):
        self.clock = clock
        self.timeout = timeout
        self._sessions: dict[str, WebSession] = {}

    def _now(self) -> float:
        return self.clock.seconds()

    def get(self, request: Any) -> WebSession | None:
        raw = request.getCookie(COOKIE)
        if not raw:
            return None
        s = self._sessions.get(raw.decode("ascii", "replace"))
        now = self._now()
        if s is None or s.expires < now:
            if s is not None:
                del self._sessions[s.sid]
            return None
        s.expires = now + (self.timeout if s.user else ANONYMOUS_TIMEOUT)
        return s

    def start(self, request: Any, user: str | None) -> WebSession:
        """A new session (replacing the request's one, if any), its cookie set."""
        old = self.get(request)
        if old is not None:
            del self._sessions[old.sid]
        self._prune()
        now = self._now()
        s = WebSession(sid=secrets.token_urlsafe(32), user=user,
                       csrf=secrets.token_urlsafe(32),
                       expires=now + (self.timeout if user else ANONYMOUS_TIMEOUT))
        self._sessions[s.sid] = s
        request.addCookie(COOKIE, s.sid.encode("ascii"), path=b"/", httpOnly=True,
                          secure=request.isSecure(), sameSite="strict")
        return s

    def end(self, request: Any) -> None:
        s = self.get(request)
        if s is not None:
            del self._sessions[s.sid]
        request.addCookie(COOKIE, b"", path=b"/", httpOnly=True, secure=request.isSecure(),
                          sameSite="strict", max_age=b"0")

    def _prune(self) -> None:
        now = self._now()
        for sid in [k for k, s in self._sessions.items() if s.expires < now]:
            del self._sessions[sid]
        while len(self._sessions) >= MAX_SESSIONS:   # the oldest anonymous ones go first
            victim = min(self._sessions.values(), key=lambda s: (s.user is not None, s.expires))
            del self._sessions[victim.sid]
