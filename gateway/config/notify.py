"""``[notify]`` in the configuration: typed settings and their parser.

Documented key by key in conf/omads-gateway.toml. ``parse(checker, doc)`` reports every
problem through the checker (gateway/config/checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.config import checks
from gateway.config.checks import Checker, Section
from gateway.notifier.policy import Retry
from gateway.notify.dlr import ALL_TYPES_MASK, REQUIRED_MASK
from gateway.store.notifications import KINDS, SAN_FORMS, NotifyDevice, parse_route

__all__ = ["NotifySettings", "ModemSettings", "KannelSettings", "PAPSettings", "SIPSettings",
           "UDPSettings", "UI_MODES", "admin_url", "parse"]

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
class NotifySettings:
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
        return (f"NotifySettings(enabled={self.enabled}, admin_listen={self.admin_listen}, "
                f"carriers={[k for k in KINDS if getattr(self, k)]})")

    @property
    def retry(self) -> Retry:
        return Retry(delay=self.retry_delay, max_delay=self.retry_max_delay,
                     max_attempts=self.max_attempts)

    @property
    def report_kinds(self) -> frozenset[str]:
        """The carriers configured to ask for SMS delivery reports."""
        return frozenset(k for k in ("kannel", "pap") if getattr(getattr(self, k), "dlr", False))

    def device(self, device_id: str) -> NotifyDevice | None:
        return next((d for d in self.devices if d.device_id == device_id), None)


_KEYS = {"enabled", "admin_listen", "admin_token", "dlr_url_base", "dlr_timeout", "node_id",
         "poll_interval", "lease", "send_timeout", "max_attempts", "retry_delay", "retry_max_delay",
         "device_max_per_hour", "daily_sms_budget", "monitor_interval", "monitor_datastores",
         "ui_mode", "modem", "kannel", "pap", "sip", "udp", "device"}


def _dlr_mask(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= ALL_TYPES_MASK \
            and v & REQUIRED_MASK == REQUIRED_MASK:
        return None
    return "must be a sum of 1, 2, 4, 8, 16 that includes 1 and 2 (the final reports)"


def _route(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a string"
    try:
        parse_route(v)
    except ValueError as e:
        return str(e)
    return None


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


def _report_base(t: Section, listen: list, wanted: bool) -> str | None:
    """The base of the delivery-report URL: ``dlr_url_base``, else the first admin
    listener; a problem when reports are asked for and there is neither."""
    base = t.get("dlr_url_base", None, checks.url)
    if base is not None or not wanted:
        return base.rstrip("/") if base else None
    if not listen:
        t.problem("delivery reports (dlr = true) need admin_listen ([admin] listen): "
                  "Kannel calls the report URL there")
        return None
    base = admin_url(listen[0])
    if base is None:
        t.problem(f"dlr_url_base is needed: cannot tell the URL of admin_listen {listen[0]!r}")
    return base


def _sub(c: Checker, t: Section, name: str, keys: set[str],
         required: tuple[str, ...] = ()) -> Section | None:
    if name not in t:
        return None
    s = c.section(t.raw(name), f"[notify.{name}]", keys)
    s.require(*required)
    return s


def _devices(c: Checker, t: Section) -> tuple[NotifyDevice, ...]:
    out: list[NotifyDevice] = []
    for i, entry in enumerate(c.tables(t.raw("device"), "[[notify.device]]"), 1):
        d = c.section(entry, f"[[notify.device]] #{i}",
                      {"id", "routes", "server_password", "nonce", "form"})
        d.require("id")
        device_id = d.get("id", "", checks.text)
        routes = d.get("routes", [], checks.list_of(_route))
        password = d.get("server_password", None, checks.optional_text)
        nonce = d.get("nonce", "", checks.optional_text)
        form = d.get("form", "auto", checks.one_of(SAN_FORMS))
        if device_id:
            out.append(NotifyDevice(device_id=device_id,
                                    routes=tuple(parse_route(r) for r in routes),
                                    server_password=password, nonce=nonce.encode("utf-8"),
                                    form=form))
    return tuple(out)


def _modem(m: Section) -> ModemSettings:
    validity = m.get("validity", 0xA7, checks.integer(-1, 255))
    return ModemSettings(
        device=m.get("device", "", checks.text),
        baudrate=m.get("baudrate", 115200, checks.integer(300, 4_000_000)),
        pin=m.get("pin", None, checks.text),
        sms_center=m.get("sms_center", None, checks.text),
        validity=None if validity < 0 else validity,
        command_timeout=float(m.get("command_timeout", 5.0, checks.seconds())),
        submit_timeout=float(m.get("submit_timeout", 60.0, checks.seconds())))


def _kannel(k: Section) -> KannelSettings:
    return KannelSettings(
        url=k.get("url", "http://127.0.0.1:13013/", checks.url),
        username=k.get("username", "", checks.text),
        password=k.get("password", "", checks.text),
        sender=k.get("sender", None, checks.text),
        smsc=k.get("smsc", None, checks.text),
        dlr=k.get("dlr", False, checks.boolean),
        dlr_mask=k.get("dlr_mask", ALL_TYPES_MASK, _dlr_mask))


def _pap(p: Section) -> PAPSettings:
    return PAPSettings(
        url=p.get("url", "http://127.0.0.1:8080/", checks.url),
        username=p.get("username", None, checks.text),
        password=p.get("password", None, checks.text),
        ppg_host=p.get("ppg_host", "ppg.localhost", checks.text),
        dlr=p.get("dlr", False, checks.boolean),
        dlr_mask=p.get("dlr_mask", ALL_TYPES_MASK, _dlr_mask))


def _sip(s: Section) -> SIPSettings:
    d = SIPSettings()
    return SIPSettings(
        transport=s.get("transport", d.transport, checks.one_of(SIP_TRANSPORTS)),
        proxy=s.get("proxy", None, checks.hostport),
        from_uri=s.get("from_uri", d.from_uri, _route),
        local_host=s.get("local_host", d.local_host, checks.text),
        method=s.get("method", d.method, checks.one_of(SIP_METHODS)),
        event=s.get("event", d.event, checks.text),
        username=s.get("username", None, checks.text),
        password=s.get("password", None, checks.text))


def parse(c: Checker, doc: Any, *, admin_listen: tuple[str, ...] = ()) -> NotifySettings:
    """``admin_listen``: the ``[admin] listen`` endpoints (where the report URL points
    when ``[notify] admin_listen``, its older spelling, is not given)."""
    t = c.section(doc, "[notify]", _KEYS)
    d = NotifySettings()
    listen = t.get("admin_listen", [], checks.list_of(checks.endpoint))
    kw: dict[str, Any] = dict(
        enabled=t.get("enabled", d.enabled, checks.boolean),
        admin_listen=tuple(listen),
        admin_token=t.get("admin_token", None, checks.text),
        node_id=t.get("node_id", None, checks.text),
        dlr_timeout=float(t.get("dlr_timeout", d.dlr_timeout, checks.seconds())),
        poll_interval=float(t.get("poll_interval", d.poll_interval, checks.seconds())),
        lease=float(t.get("lease", d.lease, checks.seconds())),
        send_timeout=float(t.get("send_timeout", d.send_timeout, checks.seconds())),
        max_attempts=t.get("max_attempts", d.max_attempts, checks.integer(1, 100)),
        retry_delay=float(t.get("retry_delay", d.retry_delay, checks.seconds())),
        retry_max_delay=float(t.get("retry_max_delay", d.retry_max_delay, checks.seconds())),
        device_max_per_hour=t.get("device_max_per_hour", d.device_max_per_hour,
                                  checks.integer(1, 3600)),
        daily_sms_budget=t.get("daily_sms_budget", d.daily_sms_budget,
                               checks.integer(0, 10_000_000)),
        monitor_interval=float(t.get("monitor_interval", d.monitor_interval,
                                     checks.seconds(zero_ok=True))),
        monitor_datastores=tuple(t.get("monitor_datastores", [],
                                       checks.list_of(checks.text))),
        ui_mode=UI_MODES[t.get("ui_mode", "not-specified", checks.one_of(UI_MODES))],
        devices=_devices(c, t),
    )
    m = _sub(c, t, "modem", {"device", "baudrate", "pin", "sms_center", "validity",
                             "command_timeout", "submit_timeout"}, ("device",))
    if m is not None:
        kw["modem"] = _modem(m)
    k = _sub(c, t, "kannel", {"url", "username", "password", "sender", "smsc", "dlr",
                              "dlr_mask"}, ("url", "username", "password"))
    if k is not None:
        kw["kannel"] = _kannel(k)
    p = _sub(c, t, "pap", {"url", "username", "password", "ppg_host", "dlr", "dlr_mask"},
             ("url",))
    if p is not None:
        kw["pap"] = _pap(p)
    s = _sub(c, t, "sip", {"transport", "proxy", "from_uri", "local_host", "method", "event",
                           "username", "password"})
    if s is not None:
        kw["sip"] = _sip(s)
    u = _sub(c, t, "udp", {"bind"})
    if u is not None:
        kw["udp"] = UDPSettings(bind=u.get("bind", "127.0.0.1", checks.text))
    wanted = any(getattr(kw.get(n), "dlr", False) for n in ("kannel", "pap"))
    kw["dlr_url_base"] = _report_base(t, listen or list(admin_listen),
                                      wanted and kw["enabled"])
    settings = NotifySettings(**kw)
    if settings.enabled and not any(getattr(settings, n) for n in KINDS):
        t.problem("enabled = true needs at least one carrier table ([notify.modem], "
                  "[notify.kannel], [notify.pap], [notify.sip], [notify.udp])")
    return settings
