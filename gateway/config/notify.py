"""``[notify]`` in the configuration: typed settings and their parser.

Documented key by key in conf/omads-gateway.toml. ``parse(checker, doc)`` reports every
problem through ``checker.problems`` (gateway/config.py ``_Checker``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gateway.notify.dlr import ALL_TYPES_MASK, REQUIRED_MASK
from gateway.store.notifications import SAN_FORMS, NotifyDevice, parse_route
from gateway.config.endpoints import check_endpoint

UI_MODES = {"not-specified": 0, "background": 1, "informative": 2, "user": 3}
SIP_METHODS = ("MESSAGE", "NOTIFY")
SIP_TRANSPORTS = ("udp", "tcp")


@dataclass(frozen=True, kw_only=True)
class ModemSettings:
    device: str
    baudrate: int = 115200
    pin: str | None = None
    sms_center: str | None = None      # SMSC number put in the PDU; None: the SIM's
    validity: int | None = 0xA7        # TP-VP relative (0xA7 = 24 h); None: none
    command_timeout: float = 5.0
    submit_timeout: float = 60.0


@dataclass(frozen=True, kw_only=True)
class KannelSettings:
    url: str                           # http://host:13013/cgi-bin/sendsms
    username: str
    password: str
    sender: str | None = None          # "from"
    smsc: str | None = None            # route through this smsc-id
    dlr: bool = False                  # ask for delivery reports (one sendsms per part)
    dlr_mask: int = ALL_TYPES_MASK     # which report types (gateway/notify/dlr.py DLRType)


@dataclass(frozen=True, kw_only=True)
class PAPSettings:
    url: str                           # http://host:8080/cgi-bin/wap-push.cgi
    username: str | None = None
    password: str | None = None
    ppg_host: str = "ppg.localhost"    # the part after @ in WAPPUSH=…/TYPE=PLMN@host
    dlr: bool = False                  # Kannel's X-Kannel-DLR-Url/-Mask headers
    dlr_mask: int = ALL_TYPES_MASK


@dataclass(frozen=True, kw_only=True)
class SIPSettings:
    transport: str = "udp"
    proxy: str | None = None           # host:port every request goes to
    from_uri: str = "sip:omads@127.0.0.1"
    local_host: str = "127.0.0.1"      # address we bind and put in Via
    method: str = "MESSAGE"
    event: str = "syncml-notification" # NOTIFY only
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, kw_only=True)
class UDPSettings:
    bind: str = "127.0.0.1"            # local address datagrams leave from


@dataclass(frozen=True, kw_only=True)
class Settings:
    """[notify] in the configuration."""

    enabled: bool = False
    admin_listen: tuple[str, ...] = ()
    admin_token: str | None = None
    dlr_url_base: str | None = None    # admin listener as Kannel reaches it (reports on)
    dlr_timeout: float = 3600.0        # seconds a sent notification waits for its reports
    node_id: str | None = None
    poll_interval: float = 2.0
    lease: float = 300.0
    send_timeout: float = 90.0
    max_attempts: int = 5
    retry_delay: float = 30.0
    retry_max_delay: float = 3600.0
    device_max_per_hour: int = 6
    daily_sms_budget: int = 500
    monitor_interval: float = 60.0
    monitor_datastores: tuple[str, ...] = ()
    ui_mode: int = 0
    modem: ModemSettings | None = None
    kannel: KannelSettings | None = None
    pap: PAPSettings | None = None
    sip: SIPSettings | None = None
    udp: UDPSettings | None = None
    devices: tuple[NotifyDevice, ...] = ()

    def __repr__(self) -> str:
        return (f"Settings(enabled={self.enabled}, admin_listen={self.admin_listen}, "
                f"carriers={[k for k in ('modem', 'kannel', 'pap', 'sip', 'udp') if getattr(self, k)]})")


_KEYS = {"enabled", "admin_listen", "admin_token", "dlr_url_base", "dlr_timeout", "node_id",
         "poll_interval", "lease", "send_timeout", "max_attempts", "retry_delay", "retry_max_delay",
         "device_max_per_hour", "daily_sms_budget", "monitor_interval", "monitor_datastores",
         "ui_mode", "modem", "kannel", "pap", "sip", "udp", "device"}


def _str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _opt_str(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _int(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"must be an integer between {lo} and {hi}"
    return check


def _seconds(zero_ok: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (
                v == 0 and not zero_ok):
            return "must be a number of seconds" + (" >= 0" if zero_ok else " > 0")
        return None
    return check


def _one_of(choices: Any) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else "must be one of " + ", ".join(choices)


def _url(v: Any) -> str | None:
    if isinstance(v, str) and v.startswith(("http://", "https://")) and "?" not in v:
        return None
    return "must be an http:// or https:// URL without a query"


def _hostport(v: Any) -> str | None:
    if isinstance(v, str) and v.rpartition(":")[2].isdigit() and v.rpartition(":")[0]:
        return None
    return "must be HOST:PORT"


def _dlr_mask(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= ALL_TYPES_MASK \
            and v & REQUIRED_MASK == REQUIRED_MASK:
        return None
    return "must be a sum of 1, 2, 4, 8, 16 that includes 1 and 2 (the final reports)"


def admin_url(endpoint: str) -> str | None:
    """``http://host:port`` of a ``tcp:``/``ssl:`` admin listener (None if not derivable);
    an unspecified interface is reached on the loopback address."""
    kind, _, rest = endpoint.partition(":")
    if kind not in ("tcp", "ssl") or "\\" in rest:
        return None
    port, host = None, "127.0.0.1"
    for i, item in enumerate(rest.split(":")):
        key, eq, value = item.partition("=")
        if not eq and i == 0:
            port = key
        elif key == "port":
            port = value
        elif key == "interface" and value not in ("", "0.0.0.0"):
            host = value
    if not port or not port.isdigit() or int(port) == 0:
        return None
    return f"{'https' if kind == 'ssl' else 'http'}://{host}:{port}"


def _report_base(c: Any, t: dict, listen: list, wanted: bool) -> str | None:
    """The base of the delivery-report URL: ``dlr_url_base``, else the first admin
    listener; a problem when reports are asked for and there is neither."""
    base = c.get(t, "dlr_url_base", "[notify] ", None, _url)
    if base is not None or not wanted:
        return base.rstrip("/") if base else None
    if not listen:
        c.problems.append("[notify] delivery reports (dlr = true) need admin_listen: "
                          "Kannel calls the report URL there")
        return None
    base = admin_url(listen[0])
    if base is None:
        c.problems.append(f"[notify] dlr_url_base is needed: cannot tell the URL of "
                          f"admin_listen {listen[0]!r}")
    return base


def _list(item: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return "must be a list"
        for x in v:
            err = item(x)
            if err:
                return f"entry {x!r} {err}"
        return None
    return check


def _route(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a string"
    try:
        parse_route(v)
    except ValueError as e:
        return str(e)
    return None


def _sub(c: Any, doc: Any, name: str, keys: set[str], required: set[str]) -> dict | None:
    if name not in doc:
        return None
    where = f"[notify.{name}]"
    t = c.table(doc[name], where, keys)
    for key in sorted(required - set(t)):
        c.problems.append(f"{where} {key} is required")
    return t


def _devices(c: Any, doc: Any) -> tuple[NotifyDevice, ...]:
    entries = doc.get("device", [])
    if not isinstance(entries, list):
        c.problems.append("[[notify.device]] must be one or more tables")
        return ()
    out: list[NotifyDevice] = []
    for i, entry in enumerate(entries, 1):
        where = f"[[notify.device]] #{i}"
        t = c.table(entry, where, {"id", "routes", "server_password", "nonce", "form"})
        w = where + " "
        if "id" not in t:
            c.problems.append(f"{where} id is required")
        device_id = c.get(t, "id", w, "", _str)
        routes = c.get(t, "routes", w, [], _list(_route))
        password = c.get(t, "server_password", w, None, _opt_str)
        nonce = c.get(t, "nonce", w, "", _opt_str)
        form = c.get(t, "form", w, "auto", _one_of(SAN_FORMS))
        if device_id:
            out.append(NotifyDevice(device_id=device_id,
                                    routes=tuple(parse_route(r) for r in routes),
                                    server_password=password, nonce=nonce.encode("utf-8"),
                                    form=form))
    return tuple(out)


def parse(c: Any, doc: Any) -> Settings:
    t = c.table(doc, "[notify]", _KEYS)
    w = "[notify] "
    d = Settings()
    listen = c.get(t, "admin_listen", w, [], _list(lambda v: check_endpoint(v)))
    kw: dict[str, Any] = dict(
        enabled=c.get(t, "enabled", w, d.enabled, _bool),
        admin_listen=tuple(listen),
        admin_token=c.get(t, "admin_token", w, None, _str),
        node_id=c.get(t, "node_id", w, None, _str),
        dlr_timeout=float(c.get(t, "dlr_timeout", w, d.dlr_timeout, _seconds())),
        poll_interval=float(c.get(t, "poll_interval", w, d.poll_interval, _seconds())),
        lease=float(c.get(t, "lease", w, d.lease, _seconds())),
        send_timeout=float(c.get(t, "send_timeout", w, d.send_timeout, _seconds())),
        max_attempts=c.get(t, "max_attempts", w, d.max_attempts, _int(1, 100)),
        retry_delay=float(c.get(t, "retry_delay", w, d.retry_delay, _seconds())),
        retry_max_delay=float(c.get(t, "retry_max_delay", w, d.retry_max_delay, _seconds())),
        device_max_per_hour=c.get(t, "device_max_per_hour", w, d.device_max_per_hour,
                                  _int(1, 3600)),
        daily_sms_budget=c.get(t, "daily_sms_budget", w, d.daily_sms_budget,
                               _int(0, 10_000_000)),
        monitor_interval=float(c.get(t, "monitor_interval", w, d.monitor_interval,
                                     _seconds(zero_ok=True))),
        monitor_datastores=tuple(c.get(t, "monitor_datastores", w, [], _list(_str))),
        ui_mode=UI_MODES[c.get(t, "ui_mode", w, "not-specified", _one_of(tuple(UI_MODES)))],
        devices=_devices(c, t),
    )
    m = _sub(c, t, "modem", {"device", "baudrate", "pin", "sms_center", "validity",
                             "command_timeout", "submit_timeout"}, {"device"})
    if m is not None:
        mw = "[notify.modem] "
        validity = c.get(m, "validity", mw, 0xA7, _int(-1, 255))
        kw["modem"] = ModemSettings(
            device=c.get(m, "device", mw, "", _str),
            baudrate=c.get(m, "baudrate", mw, 115200, _int(300, 4_000_000)),
            pin=c.get(m, "pin", mw, None, _str),
            sms_center=c.get(m, "sms_center", mw, None, _str),
            validity=None if validity < 0 else validity,
            command_timeout=float(c.get(m, "command_timeout", mw, 5.0, _seconds())),
            submit_timeout=float(c.get(m, "submit_timeout", mw, 60.0, _seconds())))
    k = _sub(c, t, "kannel", {"url", "username", "password", "sender", "smsc", "dlr",
                              "dlr_mask"}, {"url", "username", "password"})
    if k is not None:
        kw["kannel"] = KannelSettings(
            url=c.get(k, "url", "[notify.kannel] ", "http://127.0.0.1:13013/", _url),
            username=c.get(k, "username", "[notify.kannel] ", "", _str),
            password=c.get(k, "password", "[notify.kannel] ", "", _str),
            sender=c.get(k, "sender", "[notify.kannel] ", None, _str),
            smsc=c.get(k, "smsc", "[notify.kannel] ", None, _str),
            dlr=c.get(k, "dlr", "[notify.kannel] ", False, _bool),
            dlr_mask=c.get(k, "dlr_mask", "[notify.kannel] ", ALL_TYPES_MASK, _dlr_mask))
    p = _sub(c, t, "pap", {"url", "username", "password", "ppg_host", "dlr", "dlr_mask"},
             {"url"})
    if p is not None:
        kw["pap"] = PAPSettings(
            url=c.get(p, "url", "[notify.pap] ", "http://127.0.0.1:8080/", _url),
            username=c.get(p, "username", "[notify.pap] ", None, _str),
            password=c.get(p, "password", "[notify.pap] ", None, _str),
            ppg_host=c.get(p, "ppg_host", "[notify.pap] ", "ppg.localhost", _str),
            dlr=c.get(p, "dlr", "[notify.pap] ", False, _bool),
            dlr_mask=c.get(p, "dlr_mask", "[notify.pap] ", ALL_TYPES_MASK, _dlr_mask))
    s = _sub(c, t, "sip", {"transport", "proxy", "from_uri", "local_host", "method", "event",
                           "username", "password"}, set())
    if s is not None:
        sw, ds = "[notify.sip] ", SIPSettings()
        kw["sip"] = SIPSettings(
            transport=c.get(s, "transport", sw, ds.transport, _one_of(SIP_TRANSPORTS)),
            proxy=c.get(s, "proxy", sw, None, _hostport),
            from_uri=c.get(s, "from_uri", sw, ds.from_uri, _route),
            local_host=c.get(s, "local_host", sw, ds.local_host, _str),
            method=c.get(s, "method", sw, ds.method, _one_of(SIP_METHODS)),
            event=c.get(s, "event", sw, ds.event, _str),
            username=c.get(s, "username", sw, None, _str),
            password=c.get(s, "password", sw, None, _str))
    u = _sub(c, t, "udp", {"bind"}, set())
    if u is not None:
        kw["udp"] = UDPSettings(bind=c.get(u, "bind", "[notify.udp] ", "127.0.0.1", _str))
    wanted = any(getattr(kw.get(n), "dlr", False) for n in ("kannel", "pap"))
    kw["dlr_url_base"] = _report_base(c, t, listen, wanted and kw["enabled"])
    settings = Settings(**kw)
    if settings.enabled and not any(getattr(settings, n) for n in
                                    ("modem", "kannel", "pap", "sip", "udp")):
        c.problems.append("[notify] enabled = true needs at least one carrier table "
                          "([notify.modem], [notify.kannel], [notify.pap], [notify.sip], "
                          "[notify.udp])")
    return settings


def configured_kinds(settings: Settings) -> tuple[str, ...]:
    return tuple(k for k in ("modem", "kannel", "pap", "sip", "udp") if getattr(settings, k))


def config_device(settings: Settings, device_id: str) -> NotifyDevice | None:
    return next((d for d in settings.devices if d.device_id == device_id), None)

