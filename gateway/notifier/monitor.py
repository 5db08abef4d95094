"""The "monitoring" trigger: notify a device when its datastores change on the server.

A periodic scan, run by every node (the database is the shared state): for each device
that has notification routes and has synced a monitored datastore, compare the datastore's
revision counter (``current_rev``) with the revision of the device's last sync and with
the revision already notified (a watermark in the notify tables). Changes made by the
device itself are not news to it. The caller runs the scan in one transaction
(``NotificationStore.transaction()``); the watermark and the queue row are written
together, so two nodes scanning at once queue (or fold) one notification.
"""

from __future__ import annotations

from gateway.ds.settings import DatastoreSettings
from gateway.store.base import StoreTransaction
from gateway.store.notifications import NotificationQueue, NotifyDevice

__all__ = ["scan_changes"]


def scan_changes(tx: StoreTransaction, q: NotificationQueue, *,
                 monitor_datastores: tuple[str, ...], devices: tuple[NotifyDevice, ...],
                 datastores: tuple[DatastoreSettings, ...], now: float) -> list[int]:
    """Queue a notification per device with unseen server-side changes in the datastores
    ``monitor_datastores`` names; ``devices`` are the configured ones (besides those of
    the queue's tables). Returns the ids queued."""
    monitored = [ds.name for ds in datastores
                 if any(ds.matches(name) for name in monitor_datastores)]
    queued: list[int] = []
    if not monitored:
        return queued
    device_ids = set(q.list_device_ids()) | {d.device_id for d in devices}
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
