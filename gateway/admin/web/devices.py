"""``/devices`` (every device, its phone and last result) and ``/device?id=…`` (DevInf,
datastores, the last sync of each, how it is notified; actions: notify now, forget
anchors, switch its trace on or off)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from gateway.admin import devices as known
from gateway.admin.web.base import AdminContext, Page, PageError, arg, log
from gateway.admin.web.layout import (button_form, dl, field, form, link, section, select,
                                      size, table, when)
from gateway.notifier.payload import PayloadError, resolve_datastores
from gateway.notifier.reach import unreachable
from gateway.store.base import StoreError
from gateway.store.notifications import KINDS, notification_store, parse_route

__all__ = ["DeviceList", "DevicePage"]

MAX_DEVICES = 500


def _notify_device(ctx: AdminContext, device_id: str) -> Any:
    try:
        with notification_store(ctx.store).transaction() as (_tx, q):
            nd = q.get_device(device_id)
    except StoreError:
        nd = None
    return nd or ctx.settings.notify.device(device_id)


def _all(ctx: AdminContext) -> list[dict]:
    rows = []
    with ctx.store.transaction() as tx:
        ops = ctx.ops.on(tx) if ctx.ops else None
        for dev in tx.list_devices()[:MAX_DEVICES]:
            inf = known.devinf_fields(dev.devinf) or {}
            rows.append({"device": dev.device_id, "user": dev.username,
                         "phone": " ".join(x for x in (inf.get("man"), inf.get("mod")) if x),
                         "last_seen": dev.last_seen,
                         "results": ops.last_results(dev.device_id) if ops else []})
    return rows


def _one(ctx: AdminContext, device_id: str) -> dict | None:
    nd = _notify_device(ctx, device_id)
    with ctx.store.transaction() as tx:
        return known.describe(tx, ctx.ops.on(tx) if ctx.ops else None, device_id,
                              datastores=ctx.settings.server.datastores, notify_device=nd,
                              now=ctx.reactor.seconds())


def _result_cell(r: Any) -> Any:
    return [f"{r.datastore}: ", tags.span(r.result, class_=r.result), " "]


class DeviceList(Page):
    title = "Devices"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        rows = yield self.ctx.run(_all, self.ctx)
        return [tags.p(f"{len(rows)} devices have synced with this gateway."),
                table(("Device", "User", "Phone", "Last contact", "Last sync"), (
                    (link(r["device"], "/device", id=r["device"]), r["user"] or "-",
                     r["phone"] or "-", when(r["last_seen"]),
                     [_result_cell(x) for x in r["results"]] or "-")
                    for r in rows), empty="No device has synced yet.")]


def _datastore_options(ctx: AdminContext) -> list[tuple[str, str]]:
    return [("", "all datastores")] + [(ds.name, ds.name) for ds in ctx.settings.server.datastores]


def _redirect_to(device_id: str) -> str:
    return "/device?" + urlencode({"id": device_id})


class DevicePage(Page):
    title = "Device"

    @inlineCallbacks
    def get(self, request: Any, session: Any) -> Any:
        device_id = arg(request, "id")
        d = yield self.ctx.run(_one, self.ctx, device_id)
        if d is None:
            raise PageError(f"No device {device_id!r} has synced with this gateway.", 404)
        return self._body(d, session)

    def _body(self, d: dict, session: Any) -> list:
        inf, csrf, dev = d["devinf"] or {}, session.csrf, d["device"]
        s = d["last_session"] or {}
        body: list[Any] = [dl((
            ("DevID", dev), ("User", d["user"]), ("Last contact", when(d["last_seen"])),
            ("Man / Mod", " / ".join(str(inf.get(k) or "-") for k in ("man", "mod"))),
            ("OEM", inf.get("oem")), ("FwV / SwV / HwV", " / ".join(
                str(inf.get(k) or "-") for k in ("fwv", "swv", "hwv"))),
            ("Device type", inf.get("devtyp")), ("SyncML version", s.get("version")),
            ("Encoding", s.get("encoding")), ("Transport", s.get("transport")),
            ("Last session", link(f"{when(s.get('started'))} ({s.get('state')})", "/session",
                                  id=s["id"]) if s else None),
        ))]
        body += section("Last sync per datastore", table(
            ("Datastore", "When", "Mode", "Result", "From client (+ ~ − =)", "To client (+ ~ −)",
             "Refused in / out", "Conflicts", "Bytes in / out", "Duration"),
            ((r["datastore"], when(r["finished"]),
              r["mode"] + (f" ({r['slow_reason']})" if r["slow_reason"] else ""),
              tags.span(r["result"], class_=r["result"]),
              f"+{r['add_in']} ~{r['replace_in']} −{r['delete_in']} ={r['unchanged_in']}",
              f"+{r['add_out']} ~{r['replace_out']} −{r['delete_out']}",
              f"{r['refused_in']} / {r['refused_out']}", r["conflicts"],
              f"{size(r['bytes_in'])} / {size(r['bytes_out'])}", f"{r['duration']} s")
             for r in d["last_syncs"]), empty="No finished sync recorded yet."))
        body += section("Anchors", table(("Datastore", "Anchors", "Synced revision"), (
            (st["datastore"], "kept" if st["anchors"] else "forgotten: next sync is slow",
             st["synced_rev"]) for st in d["sync_states"]), empty="None stored."))
        if inf.get("datastores"):
            body += section("Datastores in its DevInf", table(
                ("LocURI", "Name", "Preferred type", "Sync types"),
                ((x["uri"], x["name"] or "-", x["rx_pref"] or "-",
                  ", ".join(map(str, x["sync_types"])) or "-") for x in inf["datastores"])))
        n = d["notify"]
        body += section("Notifications", dl((
            ("Routes", ", ".join(n["routes"]) if n and n["routes"] else "none"),
            ("SAN form", n["form"] if n else "auto"),
            ("SAN digest", n["digest"] if n else "none (all-zero, no server password)"),
        )))
        options = _datastore_options(self.ctx)
        body.append(form("/device/notify", csrf, select("Datastore", "datastore", options),
                         field("Via (optional)", "via"), button="Notify now",
                         hidden={"id": dev}, form_id="notify"))
        body += section("Actions", form(
            "/device/forget", csrf, select("Datastore", "datastore", options),
            button="Forget anchors (next sync slow)", hidden={"id": dev}, form_id="forget"))
        trace = d["trace_until"]
        body += section("Trace", tags.p(
            f"Recording this device's messages (redacted) until {when(trace)}. " if trace else
            "Off: this device's messages are not recorded. ",
            button_form("/device/trace", csrf, "Stop the trace" if trace else "Trace its "
                        "sessions", secondary=bool(trace), form_id="trace", id=dev,
                        on="0" if trace else "1")))
        return body

    def post(self, request: Any, session: Any) -> Any:
        action = b"/".join(request.postpath).decode("ascii", "replace")
        device_id = arg(request, "id")
        if not device_id:
            raise PageError("no device given")
        handler = {"notify": self._notify, "forget": self._forget,
                   "trace": self._trace}.get(action)
        if handler is None:
            raise PageError("unknown action", 404)
        d = handler(request, session, device_id)
        return d.addCallback(lambda _: _redirect_to(device_id))

    @inlineCallbacks
    def _notify(self, request: Any, session: Any, device_id: str) -> Any:
        ctx = self.ctx
        if ctx.notify is None:
            session.flash.append(("error", "The notification service is disabled "
                                           "([notify] enabled = false): nothing would send it."))
            return None
        try:
            names = (arg(request, "datastore"),) if arg(request, "datastore") else ()
            chosen = resolve_datastores(names, ctx.settings.server.datastores) if names else ()
            via = str(parse_route(arg(request, "via"), bare=True)) if arg(request, "via") else None
        except (ValueError, PayloadError) as e:
            session.flash.append(("error", str(e)))
            return None
        nd = yield ctx.run(_notify_device, ctx, device_id)
        carriers = [k for k in KINDS if getattr(ctx.settings.notify, k)]
        problem = unreachable(carriers, device_id, nd, via)
        if problem is not None:
            session.flash.append(("error", problem))
            return None
        n, new = yield ctx.notify.enqueue(device_id, tuple(ds.name for ds in chosen), via,
                                          origin="web")
        log.info("admin {user}: notification {id} for {device} queued from the page",
                 user=session.user, id=n.id, device=device_id)
        session.flash.append(("info", f"{'Queued' if new else 'Folded into'} notification "
                                      f"{n.id} for {device_id}; see Notifications."))
        return None

    @inlineCallbacks
    def _forget(self, request: Any, session: Any, device_id: str) -> Any:
        ctx = self.ctx
        only = arg(request, "datastore") or None

        def forget() -> list[str]:
            with ctx.store.transaction() as tx:
                return known.forget_anchors(tx, device_id,
                                            datastores=ctx.settings.server.datastores, only=only)
        done = yield ctx.run(forget)
        log.info("admin {user}: forgot the anchors of {device}: {done}", user=session.user,
                 device=device_id, done=", ".join(done) or "none")
        session.flash.append(("info", f"Forgot the anchors of {', '.join(done)}: the next sync "
                                      "is slow." if done else "No anchors to forget."))
        return None

    @inlineCallbacks
    def _trace(self, request: Any, session: Any, device_id: str) -> Any:
        ctx = self.ctx
        if ctx.ops is None:
            raise PageError("this store keeps no history")
        on = arg(request, "on") == "1"
        until = ctx.reactor.seconds() + ctx.settings.admin.trace_duration if on else None

        def switch() -> None:
            with ctx.ops.transaction() as (_tx, ops):
                ops.set_trace(device_id, until)
        yield ctx.run(switch)
        log.info("admin {user}: trace of {device} {state}", user=session.user, device=device_id,
                 state=f"on until {when(until)}" if on else "off")
        session.flash.append(("info", f"Tracing {device_id} until {when(until)}." if on
                                      else f"Trace of {device_id} stopped."))
        return None
