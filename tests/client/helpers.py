"""Run the client engine against the server engine in-process (bytes through SyncServer)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from gateway.ds.client.engine import ClientSession
from gateway.ds.client.events import SessionEnded, Suspend
from gateway.ds.client.settings import ClientSettings, DatastoreConfig
from gateway.ds.client.state import ClientState
from gateway.ds.server.handler import Request, SyncServer

BASE = "http://sync.test/sync"


class Clock:
    def __init__(self, start: float = 1_700_000_000.0):
        self.t = start

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def settings(*, mode: int = 200, encoding: str, auth: str = "syncml:auth-md5",
             password: str = "secret", remote: str = "contacts", **kw) -> ClientSettings:
    return ClientSettings(url=BASE, username="alice", password=password, auth_type=auth,
                          device_id=kw.pop("device_id", "omads-test"), encoding=encoding,
                          datastores=(DatastoreConfig(local_uri="./contacts", remote_uri=remote,
                                                      mode=mode),), **kw)


def run(server: SyncServer, session: ClientSession, clock: Clock, *, stop_after: int | None = None,
        trace: list | None = None) -> ClientSession:
    """Drive one session to its end; ``stop_after`` messages: request suspend then."""
    count = 0
    while (body := session.data_to_send()) is not None:
        query = parse_qs(urlsplit(session.url).query)
        key = query.get("s", [None])[0]
        if trace is not None:
            trace.append(body)
        now = clock()
        resp = server.handle(Request(body=body, content_type=session.content_type, session=key,
                                     base_url=BASE, now=now))
        count += 1
        if stop_after is not None and count == stop_after:
            session.send(Suspend(), now)
        session.receive_data(resp.body, clock(), content_type=resp.content_type)
        events(session)
    return session


def events(session: ClientSession) -> list:
    """The session's events so far; the error of a failed session is raised."""
    out = []
    while (event := session.next_event()) is not None:
        out.append(event)
        if isinstance(event, SessionEnded) and event.error is not None:
            raise event.error
    return out


def fresh_state() -> ClientState:
    return ClientState()


def server_items(store) -> dict[str, bytes]:
    """alice's contacts in the gateway store, by GUID."""
    with store.transaction() as tx:
        return {i.guid: bytes(i.data) for i in tx.list_items("alice", "contacts")}
