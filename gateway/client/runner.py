"""Drive one client session over a transport: the engine's bytes out, the server's in.

``send(url, body, content_type)`` is any awaitable transport (HTTP, OBEX); with auth-MAC
it also gets ``headers=`` (only the HTTP transport takes them). The stores and
the client state are flushed after every message, so an interrupted session loses at
most the message in flight. Messages can be shown (``--verbose``) and counted; the
engine's ``Exchanged`` events drive the progress hook; a failed session raises its
error (``SessionEnded.error``: the exit code's class).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.ds.client.engine import ClientSession
from gateway.ds.client.errors import LocalStoreError
from gateway.ds.client.events import Exchanged, SessionEnded, Suspend
from gateway.ds.client.settings import ClientSettings
from gateway.ds.client.state import ClientState

Send = Callable[[str, bytes, str], Awaitable[tuple[bytes, str]]]


class StateFile:
    """The client state as a JSON file (written atomically)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def load(self) -> ClientState:
        try:
            return ClientState.from_bytes(self.path.read_bytes())
        except FileNotFoundError:
            return ClientState()
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            raise LocalStoreError(f"{self.path}: {exc}") from None

    def save(self, state: ClientState) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_bytes(state.to_bytes())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise LocalStoreError(f"{self.path}: {exc.strerror or exc}") from None


@dataclass
class Observer:
    """Hooks for progress, message dumps and latency figures."""

    on_message: Callable[[str, bytes, str], None] | None = None    # ("out"/"in", body, ct)
    on_progress: Callable[[Exchanged], None] | None = None
    latencies: list[float] = field(default_factory=list)


async def run_session(settings: ClientSettings, stores: dict, state_file, send: Send, *,
                      clock: Callable[[], float], resume: bool = False,
                      devinf_only: bool = False, observer: Observer | None = None,
                      suspend_on_sigint: bool = False) -> ClientSession:
    obs = observer or Observer()
    state = state_file.load()
    session = ClientSession(settings, state, stores, now=clock(), resume=resume,
                            devinf_only=devinf_only)
    previous = None
    if suspend_on_sigint:
        previous = signal.signal(signal.SIGINT,
                                 lambda *_: session.send(Suspend(), clock()))
    try:
        while (body := session.data_to_send()) is not None:
            if obs.on_message:
                obs.on_message("out", body, session.content_type)
            started = clock()
            headers = session.transport_headers(body)     # auth-MAC: HTTP only
            if headers:
                reply, ct = await send(session.url, body, session.content_type,
                                       headers=headers)
            else:
                reply, ct = await send(session.url, body, session.content_type)
            obs.latencies.append(clock() - started)
            if obs.on_message:
                obs.on_message("in", reply, ct)
            session.receive_data(reply, clock(), content_type=ct)
            flush_all(stores, state_file, state)
            dispatch_events(session, obs)
    finally:
        if suspend_on_sigint:
            signal.signal(signal.SIGINT, previous)
        flush_all(stores, state_file, state)
    return session


def dispatch_events(session: ClientSession, obs: Observer) -> None:
    """Hand the session's events to the observer; raise the error of a failed session."""
    while (event := session.next_event()) is not None:
        if isinstance(event, Exchanged) and obs.on_progress:
            obs.on_progress(event)
        elif isinstance(event, SessionEnded) and event.error is not None:
            raise event.error


def flush_all(stores: dict, state_file, state: ClientState) -> None:
    for store in stores.values():
        flush = getattr(store, "flush", None)
        if flush is not None:
            flush()
    state_file.save(state)
