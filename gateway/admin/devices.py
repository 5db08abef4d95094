"""What the operator knows about a device, and the one change made to it: forgetting its
anchors. Blocking: each function works inside one open store transaction; shared by
``omads-admin device show|forget`` and the admin web pages.

``describe`` gathers the device's DevInf (decoded), its datastores, the last sync of
each (from the history, gateway/store/ops.py), how it is notified (never the password:
only whether there is one) and its trace switch, as plain JSON-ready values.
``forget_anchors`` blanks the client anchor of the device's sync states, so each
datastore's next sync is slow (reason ``forgotten``), as Funambol's "delete last
timestamp"; the ID map stays, so the slow sync pairs the items it knows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.ds.server.report import MODE_NAMES, summary_fields
from gateway.store.ops import OpsLog
from gateway.syncml import codec

__all__ = ["describe", "forget_anchors", "devinf_fields"]


def devinf_fields(raw: bytes | None) -> dict[str, Any] | None:
    """The stored DevInf decoded into what a page shows (None: none or unreadable)."""
    if not raw:
        return None
    try:
        devinf = codec.decode_devinf(bytes(raw), codec.XML)
    except Exception:   # a DevInf we cannot read is shown as missing
        return None
    return {
        "man": devinf.man, "mod": devinf.mod, "oem": devinf.oem, "fwv": devinf.fw_v,
        "swv": devinf.sw_v, "hwv": devinf.hw_v, "devtyp": devinf.dev_typ,
        "verdtd": devinf.ver_dtd, "large_objects": devinf.support_large_objs,
        "datastores": [{
            "uri": ds.source_ref, "name": ds.display_name,
            "rx_pref": f"{ds.rx_pref.ct_type} {ds.rx_pref.ver_ct}".strip() if ds.rx_pref else None,
            "sync_types": list(ds.sync_cap),
        } for ds in devinf.datastores],
    }


def _result(r: Any) -> dict[str, Any]:
    return {"datastore": r.datastore, "mode": MODE_NAMES.get(r.mode, str(r.mode)),
            "slow_reason": r.slow_reason, "result": r.result, "finished": r.finished,
            "duration": round(r.duration, 3), **summary_fields(r.counts)}


def describe(tx: Any, ops: OpsLog | None, device_id: str, *, datastores: tuple = (),
             notify_device: Any = None, now: float = 0.0) -> dict[str, Any] | None:
    """Everything about one device (None if unknown); ``notify_device``: its
    ``NotifyDevice`` (from the queue's tables or the configuration)."""
    dev = tx.get_device(device_id)
    if dev is None:
        return None
    user = dev.username or ""
    states = []
    for ds in datastores:
        st = tx.get_sync_state(device_id, user, ds.name) if user else None
        if st is not None:
            states.append({"datastore": ds.name, "anchors": bool(st.client_anchor),
                           "synced_rev": st.synced_rev})
    out: dict[str, Any] = {
        "device": device_id, "user": dev.username, "last_seen": dev.last_seen,
        "devinf": devinf_fields(dev.devinf), "sync_states": states,
        "last_syncs": [], "last_session": None, "trace_until": None,
    }
    if ops is not None:
        out["last_syncs"] = [_result(r) for r in ops.last_results(device_id)]
        recent = ops.list_sessions(device_id=device_id, limit=1)
        if recent:
            s = recent[0]
            out["last_session"] = {"id": s.id, "state": s.state, "transport": s.transport,
                                   "version": s.version, "encoding": s.encoding,
                                   "started": s.started, "messages": s.messages}
        until = ops.trace_until(device_id)
        out["trace_until"] = until if until is not None and until > now else None
    nd = notify_device
    out["notify"] = None if nd is None else {
        "routes": [str(r) for r in nd.routes], "form": nd.form,
        "digest": "with a server password" if nd.server_password is not None
                  else "none (all-zero, no server password)"}
    return out


def forget_anchors(tx: Any, device_id: str, *, datastores: tuple, only: str | None = None
                   ) -> list[str]:
    """Blank the anchors of the device's datastores (``only``: one of them); the names
    of those it had. The next sync of each is slow."""
    dev = tx.get_device(device_id)
    if dev is None or not dev.username:
        return []
    done = []
    for ds in datastores:
        if only is not None and not ds.matches(only):
            continue
        st = tx.get_sync_state(device_id, dev.username, ds.name)
        if st is not None and st.client_anchor:
            tx.put_sync_state(replace(st, client_anchor="", server_anchor=None))
            done.append(ds.name)
    return done
