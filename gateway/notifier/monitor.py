"""The "monitoring" trigger: notify a device when its datastores change on the server.

A periodic scan, run by every node (the database is the shared state): for each device
that has notification routes and has synced a monitored datastore, compare the datastore's
revision counter (``current_rev``) with the revision of the device's last sync and with
the revision already notified (a watermark in the notify tables). Changes made by the
device itself are not news to it. One transaction per scan; the watermark and the queue
row are written together, so two nodes scanning at once queue (or fold) one notification.
"""

from __future__ import annotations

from typing import Any

from gateway.store.sqlite.notifications import SQLiteNotifications


def scan_changes(store: Any, settings: Any, datastores: tuple, now: float) -> list[int]:
    """Queue a notification per device with unseen server-side changes; their ids."""
    monitored = [ds.name for ds in datastores
                 if any(ds.matches(name) for name in settings.monitor_datastores)]
    queued: list[int] = []
    if not monitored:
        return queued
    with store.transaction() as tx:
        q = SQLiteNotifications(tx)
        device_ids = set(q.list_device_ids()) | {d.device_id for d in settings.devices}
        for device_id in sorted(device_ids):
            device = tx.get_device(device_id)
            if device is None or not device.username:
                continue
            user = device.username
            changed = []
            for name in monitored:
                state = tx.get_sync_state(device_id, user, name)
                if state is None:
                    continue
                rev = tx.current_rev(user, name)
                base = max(state.synced_rev, q.get_watermark(device_id, user, name))
                if rev <= base:
                    continue
                if any(c.changed_by != device_id for c in tx.changes_since(user, name, base)):
                    changed.append(name)
                q.set_watermark(device_id, user, name, rev)
            if changed:
                n, _new = q.enqueue(device_id=device_id, datastores=tuple(changed), via=None,
                                    now=now, origin="monitor")
                queued.append(n.id)
    return queued
