"""The OBEX feature's hooks (see gateway/extensions.py): [obex] settings, the OBEX
listeners in the service tree, and ``omads-admin device sync DEVICE --via obex:...``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.obex import ClientConfig, ServerConfig
from gateway.obex.constants import TYPE_SYNCML_WBXML, TYPE_SYNCML_XML
from gateway.store.notifications import SAN_FORMS

SECTION = "obex"
_KEYS = {"listen", "max_packet_length", "idle_timeout", "allow_no_target", "handset"}
_HANDSET_KEYS = {"device", "via", "encoding", "san_password", "form"}
ENCODINGS = {"wbxml": TYPE_SYNCML_WBXML, "xml": TYPE_SYNCML_XML}


@dataclass(frozen=True, kw_only=True)
class Handset:
    """A handset the gateway dials (``[[obex.handset]]``)."""

    device: str
    via: str
    encoding: str = "wbxml"
    san_password: str | None = None
    form: str = "auto"          # SAN form: auto (from the stored DevInf), 1.2 or 1.1


@dataclass(frozen=True, kw_only=True)
class Settings:
    """[obex] in the configuration."""

    listen: tuple[str, ...] = ()
    max_packet_length: int = 0x7FFF
    idle_timeout: float = 120.0
    allow_no_target: bool = False
    handsets: tuple[Handset, ...] = ()

    def server_config(self, max_object_size: int) -> ServerConfig:
        return ServerConfig(max_packet_length=self.max_packet_length,
                            idle_timeout=self.idle_timeout,
                            allow_no_target=self.allow_no_target,
                            max_object_size=max_object_size)

    def client_config(self) -> ClientConfig:
        return ClientConfig(max_packet_length=self.max_packet_length,
                            idle_timeout=self.idle_timeout)

    def handset(self, device: str) -> Handset | None:
        return next((h for h in self.handsets if h.device == device), None)


def _listen_list(v: Any) -> str | None:
    from gateway.transport.obex.links import parse_listen
    if not isinstance(v, list):
        return "must be a list of listen strings"
    for text in v:
        try:
            parse_listen(text)
        except ValueError as e:
            return str(e)
    return None


def _via(v: Any) -> str | None:
    from gateway.transport.obex.dial import parse_via
    if not isinstance(v, str):
        return "must be a string such as 'obex:serial:/dev/ttyACM0'"
    try:
        parse_via(v)
    except ValueError as e:
        return str(e)
    return None


def _check(pred, text):
    return lambda v: None if pred(v) else text


def parse(checker: Any, doc: Any) -> Settings:
    t = checker.table(doc, "[obex]", _KEYS)
    w, d = "[obex] ", Settings()
    listen = checker.get(t, "listen", w, list(d.listen), _listen_list)
    size = checker.get(t, "max_packet_length", w, d.max_packet_length, _check(
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 255 <= v <= 65535,
        "must be an integer between 255 and 65535"))
    idle = checker.get(t, "idle_timeout", w, d.idle_timeout, _check(
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0,
        "must be a number of seconds > 0"))
    no_target = checker.get(t, "allow_no_target", w, d.allow_no_target, _check(
        lambda v: isinstance(v, bool), "must be true or false"))
    handsets = []
    raw = t.get("handset", [])
    if not isinstance(raw, list):
        checker.problems.append("[[obex.handset]] must be one or more tables")
        raw = []
    for i, entry in enumerate(raw, 1):
        where = f"[[obex.handset]] #{i}"
        h = checker.table(entry, where, _HANDSET_KEYS)
        for key in ("device", "via"):
            if key not in h:
                checker.problems.append(f"{where}: {key} is required")
        text = _check(lambda v: isinstance(v, str) and bool(v.strip()), "must be a string")
        device = checker.get(h, "device", where + ": ", "", text)
        via = checker.get(h, "via", where + ": ", "", _via)
        enc = checker.get(h, "encoding", where + ": ", "wbxml", _check(
            lambda v: v in ENCODINGS, "must be wbxml or xml"))
        pw = checker.get(h, "san_password", where + ": ", None, text)
        form = checker.get(h, "form", where + ": ", "auto", _check(
            lambda v: v in SAN_FORMS, "must be one of " + ", ".join(SAN_FORMS)))
        if device and via:
            handsets.append(Handset(device=device, via=via, encoding=enc, san_password=pw,
                                    form=form))
    return Settings(listen=tuple(listen), max_packet_length=int(size),
                    idle_timeout=float(idle), allow_no_target=no_target,
                    handsets=tuple(handsets))


def make_services(settings: Any, *, reactor: Any, store: Any, engine: Any, run: Any) -> list:
    from gateway.transport.obex.links import make_listener, parse_listen
    own: Settings = settings.features.get(SECTION, Settings())
    config = own.server_config(settings.server.max_msg_size)
    services = []
    for i, text in enumerate(own.listen):
        spec = parse_listen(text)
        kwargs = dict(engine=engine, run=run, reactor=reactor, config=config,
                      base_url="obex://" + spec.text.split(":", 1)[0])
        services.append(make_listener(spec, name=f"obex-{i}", reactor=reactor, run=run,
                                      protocol_kwargs=kwargs))
    return services


def add_admin_commands(device_subparsers: Any) -> None:
    p = device_subparsers.add_parser(
        "sync", help="dial a handset over OBEX and run a server-alerted sync")
    p.add_argument("device", help="the handset's device id (or an [[obex.handset]] device)")
    p.add_argument("--via", help="obex:tcp:HOST:PORT | obex:serial:/dev/ttyX | "
                                 "obex:bt:MAC[:CHANNEL] (default: from [[obex.handset]])")
    p.add_argument("--encoding", choices=sorted(ENCODINGS), default=None,
                   help="SyncML encoding to ask the handset for (default wbxml)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for the handset at each step")


def run_admin(args: Any, store: Any, out: Any) -> bool:
    if getattr(args, "area", None) != "device" or getattr(args, "action", None) != "sync":
        return False
    from gateway.admin.obex import sync_device
    sync_device(args, store, out)
    return True
