"""Running one profile's sync: its local stores, its link (HTTP or OBEX), the session, and
the exit code its outcome means. Shared by ``omads-sync``, ``omads-sync listen`` and the
OBEX dial-in link."""

from __future__ import annotations

import sys

from gateway.client import profiles
from gateway.client.folder import FolderStore
from gateway.client.report import Progress, pretty
from gateway.client.runner import Observer, StateFile, run_session
from gateway.client.sqlite_store import SQLiteItemStore
from gateway.ds.client.errors import PartialSync, Suspended, SyncFailed


def open_stores(profile: profiles.Profile) -> dict:
    stores = {}
    for ds in profile.settings.datastores:
        spec = profile.stores[ds.local_uri]
        if spec.kind == "sqlite":
            stores[ds.local_uri] = SQLiteItemStore(spec.path, ds.content_type)
        else:
            stores[ds.local_uri] = FolderStore(spec.path, ds.content_type)
    return stores


async def transport_for(reactor, profile: profiles.Profile, timeout: float):
    """(send, close) for the profile's link."""
    if profile.obex:
        from gateway.transport.obex.client_link import open_obex
        return await open_obex(reactor, profile.obex, timeout=timeout)
    from gateway.transport.http_client import HttpTransport
    http = HttpTransport(reactor, ca_file=profile.ca_file, timeout=timeout)
    return http.send, http.close


async def sync_profile(reactor, profile: profiles.Profile, *, resume=False, devinf_only=False,
                       verbose=False, progress: Progress | None = None, timeout=120.0,
                       stderr=None):
    stderr = stderr or sys.stderr
    stores = open_stores(profile)
    send, close = await transport_for(reactor, profile, timeout)
    observer = Observer(on_progress=progress)
    if verbose:
        def dump(direction, body, ct):
            arrow = ">>> to server" if direction == "out" else "<<< from server"
            stderr.write(f"{arrow} ({len(body)} bytes, {ct})\n{pretty(body, ct)}\n")
        observer.on_message = dump
    try:
        return await run_session(profile.settings, stores, StateFile(profile.state), send,
                                 clock=reactor.seconds, resume=resume, devinf_only=devinf_only,
                                 observer=observer, suspend_on_sigint=True)
    finally:
        await close()
        for store in stores.values():
            store.close()


def result_code(session) -> int:
    if session.suspended:
        raise Suspended("the session was suspended; run again with --resume")
    if any(r.failed for r in session.runs.values()):
        raise SyncFailed("; ".join(f"{r.local_uri}: {r.failed}"
                                   for r in session.runs.values() if r.failed))
    if any(r.counters.refused_by_server or r.counters.refused_by_us
           for r in session.runs.values()):
        raise PartialSync("some items were refused")
    return 0
