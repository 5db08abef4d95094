"""The server's commands and Statuses as the client engine takes them (omads-protocol.md
§3.4, §3.8): Statuses for our Alerts, items and Maps; the server's sync Alerts (mode and
anchors), its Sync (applied by client_items.py), DevInf Put/Results and Get.
"""

from __future__ import annotations

from gateway.ds.client import items as client_items
from gateway.ds.client.devinf import results_for
from gateway.ds.client.run import DatastoreRun
from gateway.ds.devinf_exchange import devinf_of_items, is_devinf_uri
from gateway.ds.settings import normalize_uri
from gateway.syncml import codec
from gateway.syncml.metinf import Anchor
from gateway.syncml.model import Alert, Get, Item, Put, Results, Status, Sync, command_name

CONFLICT_CODES = (207, 208, 209, 419)


class IncomingMixin:
    """Methods of ClientSession that read the server's message."""

    def _status(self, st: Status) -> None:
        key = f"{st.msg_ref}:{st.cmd_ref}"
        if st.cmd == "Alert":
            run = self._run_for_alert_status(st)
            if run is not None:
                run.alert_status = st.data
                if st.data not in (200, 508) and not (run.asked == 225 and st.data == 509):
                    run.failed = f"the server refused the Alert (status {st.data})"
            return
        if st.cmd == "Map":
            entry = self.map_inflight.pop(key, None)
            if entry is not None and 200 <= st.data < 300:
                run = self.runs[entry[0]]
                for luid in entry[1]:
                    guid = run.memory.pending_map.pop(luid, None)
                    if guid is not None:
                        run.memory.map[luid] = guid
            return
        entry = self.inflight.get(key)
        if entry is None:
            return
        if st.data == 213:
            return                                   # a chunk of a large object
        del self.inflight[key]
        run = self.runs[entry[0]]
        kind, luid = entry[1], entry[2]
        if st.data in CONFLICT_CODES:
            run.counters.conflicts += 1
        if 200 <= st.data < 300 or st.data == 419:
            if kind == "delete":
                run.store.forget(luid)
                run.unmap(luid)
                run.counters.remote_deleted += 1
            else:
                run.store.mark_synced(luid)
                if kind == "add":
                    run.counters.remote_added += 1
                else:
                    run.counters.remote_updated += 1
            run.acked.append(luid)
        else:
            run.counters.refused_by_server += 1

    def _run_for_alert_status(self, st: Status) -> DatastoreRun | None:
        for ref in (*st.source_refs, *st.target_refs):
            for run in self.runs.values():
                if ref in (run.local_uri, run.remote_uri):
                    return run
        return next(iter(self.runs.values())) if len(self.runs) == 1 else None

    def _command(self, cmd, msg_id: str, status, commands: list) -> None:
        name = command_name(cmd)
        if isinstance(cmd, Alert):
            code = cmd.data or 0
            if 200 <= code <= 205 or code == 225:
                self._server_alert(cmd, status)
            elif code in (222, 100, 221):
                status(cmd, name, 200)
            elif code == 223:
                for run in self.runs.values():
                    if run.out is not None:
                        run.out.out_chunk = None
                status(cmd, name, 200)
            else:
                status(cmd, name, 406)
        elif isinstance(cmd, Sync):
            target = cmd.target.loc_uri if cmd.target else ""
            run = self._run_for(target)
            if run is None or run.mode is None:
                status(cmd, name, 404, target=target)
                return
            status(cmd, name, 200, target=target,
                   source=cmd.source.loc_uri if cmd.source else None)
            client_items.apply_sync(run, cmd, status, commands,
                                    max_obj_size=self.settings.max_obj_size)
        elif isinstance(cmd, (Put, Results)):
            devinf = devinf_of_items(cmd.items, codec.DEFAULT_LIMITS)
            if devinf is not None:
                self.server_devinf = devinf
                self.server_large_objs = devinf.support_large_objs
                self.state.server_devinf[self.settings.url] = codec.encode_devinf(
                    devinf, codec.XML).decode("utf-8")
            if isinstance(cmd, Put):
                status(cmd, name, 200 if devinf is not None else 415)
        elif isinstance(cmd, Get):
            uri = next((i.target_uri for i in cmd.items if i.target_uri), None)
            if not is_devinf_uri(uri):
                status(cmd, name, 404, target=uri)
                return
            status(cmd, name, 200, target=uri)
            commands.append(results_for(self.settings, cmd, msg_id))
        else:
            status(cmd, name, 406)

    def _run_for(self, uri: str) -> DatastoreRun | None:
        key = normalize_uri(uri)
        for run in self.runs.values():
            if key in (normalize_uri(run.local_uri), normalize_uri(run.remote_uri)):
                return run
        return None

    def _server_alert(self, alert: Alert, status) -> None:
        item = alert.items[0] if alert.items else None
        uri = (item.target_uri or item.source_uri) if item is not None else ""
        run = self._run_for(uri or "")
        if run is None:
            status(alert, "Alert", 404, target=uri)
            return
        code = alert.data or 200
        anchor = item.meta.anchor if item is not None and item.meta is not None else None
        run.server_next = anchor.next if anchor is not None else None
        if code == 225:
            resume = run.memory.resume
            run.mode = resume.mode if resume is not None else 200
            self.resumed[run.local_uri] = frozenset(resume.sent if resume else ())
        else:
            run.mode = code
        if item is not None and item.meta is not None and item.meta.max_obj_size:
            self.server_max_obj = item.meta.max_obj_size
        status(alert, "Alert", 200, target=item.target_uri if item else None,
               source=item.source_uri if item else None,
               items=(Item(data=Anchor(next=run.server_next)),) if run.server_next else ())
