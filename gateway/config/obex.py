"""``[obex]`` in the configuration: OBEX listeners, their limits, the handsets we dial.

Pure parsing: a listen string becomes a ``ListenSpec`` and a ``--via`` / ``[[obex.handset]]
via`` string a ``DialTarget``; gateway/transport/obex/ opens them. Documented key by key
in conf/omads-gateway.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.config import checks
from gateway.config.checks import Checker
from gateway.config.endpoints import check_endpoint
from gateway.obex import ClientConfig, ServerConfig
from gateway.obex.constants import TYPE_SYNCML_WBXML, TYPE_SYNCML_XML
from gateway.store.notifications import SAN_FORMS

__all__ = ["ObexSettings", "Handset", "ListenSpec", "parse_listen", "DialTarget", "parse_via",
           "ENCODINGS", "parse"]

ENCODINGS = {"wbxml": TYPE_SYNCML_WBXML, "xml": TYPE_SYNCML_XML}
SERIAL_KEYS = frozenset({"baudrate"})
BLUETOOTH_KEYS = frozenset({"channel", "sdp"})
_KEYS = {"listen", "max_packet_length", "idle_timeout", "allow_no_target", "handset"}
_HANDSET_KEYS = {"device", "via", "encoding", "san_password", "form"}


# -- listen strings ------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class ListenSpec:
    """One parsed listen string. ``kind``: "endpoint", "serial" or "bluetooth"."""

    kind: str
    text: str
    device: str = ""
    baudrate: int = 115200
    channel: int = 0
    sdp: bool = True


def _options(parts: list[str], allowed: frozenset[str], text: str) -> dict[str, str]:
    opts = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or key not in allowed:
            raise ValueError(f"{text!r}: unknown option {part!r} (known: "
                             + ", ".join(sorted(allowed)) + ")")
        opts[key] = value
    return opts


def parse_listen(text: str) -> ListenSpec:
    """``serial:/dev/ttyX[:baudrate=N]``, ``bluetooth:channel=N[:sdp=no]`` or a Twisted
    server endpoint (checked as [http] listen is); ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a non-empty listen string")
    kind, _, rest = text.partition(":")
    if kind == "serial":
        parts = rest.split(":")
        device = parts[0]
        opts = _options(parts[1:], SERIAL_KEYS, text)
        if not device.startswith("/"):
            raise ValueError(f"{text!r}: serial needs an absolute device path")
        baud = opts.get("baudrate", "115200")
        if not baud.isdigit() or int(baud) <= 0:
            raise ValueError(f"{text!r}: baudrate must be a positive number")
        return ListenSpec(kind="serial", text=text, device=device, baudrate=int(baud))
    if kind in ("bluetooth", "rfcomm"):
        opts = _options(rest.split(":") if rest else [], BLUETOOTH_KEYS, text)
        channel = opts.get("channel", "")
        if not channel.isdigit() or not 1 <= int(channel) <= 30:
            raise ValueError(f"{text!r}: channel must be 1..30")
        sdp = opts.get("sdp", "yes")
        if sdp not in ("yes", "no"):
            raise ValueError(f"{text!r}: sdp must be yes or no")
        return ListenSpec(kind="bluetooth", text=text, channel=int(channel), sdp=sdp == "yes")
    problem = check_endpoint(text)
    if problem is not None:
        raise ValueError(problem + " (or serial:/dev/ttyX, bluetooth:channel=N)")
    return ListenSpec(kind="endpoint", text=text)


# -- dial targets ------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class DialTarget:
    """A parsed ``--via``: kind "tcp" (host, port), "serial" (device), "bt" (mac, channel)."""

    kind: str
    text: str
    host: str = ""
    port: int = 0
    device: str = ""
    mac: str = ""
    channel: int | None = None


def parse_via(text: str) -> DialTarget:
    """Parse ``obex:tcp:HOST:PORT|obex:serial:/dev/ttyX|obex:bt:MAC[:CHANNEL]``."""
    prefix, _, rest = text.partition(":")
    kind, _, rest = rest.partition(":")
    if prefix != "obex" or kind not in ("tcp", "serial", "bt"):
        raise ValueError(f"{text!r}: use obex:tcp:HOST:PORT, obex:serial:/dev/ttyX or "
                         "obex:bt:MAC[:CHANNEL]")
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r}: obex:tcp needs HOST:PORT")
        return DialTarget(kind=kind, text=text, host=host.strip("[]"), port=int(port))
    if kind == "serial":
        if not rest.startswith("/"):
            raise ValueError(f"{text!r}: obex:serial needs a device path")
        return DialTarget(kind=kind, text=text, device=rest)
    parts = rest.split(":")
    if len(parts) not in (6, 7) or not all(len(p) == 2 for p in parts[:6]):
        raise ValueError(f"{text!r}: obex:bt needs a MAC such as 00:11:22:33:44:55")
    channel = None
    if len(parts) == 7:
        if not parts[6].isdigit() or not 1 <= int(parts[6]) <= 30:
            raise ValueError(f"{text!r}: RFCOMM channel must be 1..30")
        channel = int(parts[6])
    return DialTarget(kind=kind, text=text, mac=":".join(parts[:6]).upper(), channel=channel)


def _raises_value_error(parse: Any, what: str) -> checks.Check:
    """A check that a string parses with ``parse`` (its ValueError is the problem)."""
    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return f"must be {what}"
        try:
            parse(v)
        except ValueError as e:
            return str(e)
        return None
    return check


_listen_entry = _raises_value_error(parse_listen, "a listen string")
_via = _raises_value_error(parse_via, "a string such as 'obex:serial:/dev/ttyACM0'")


def _listen_list(v: Any) -> str | None:
    if not isinstance(v, list):
        return "must be a list of listen strings"
    for entry in v:
        err = _listen_entry(entry)
        if err is not None:
            return err
    return None


# -- the section ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Handset:
    """A handset the gateway dials (``[[obex.handset]]``)."""

    device: str
    via: str
    encoding: str = "wbxml"
    san_password: str | None = None
    form: str = "auto"          # SAN form: auto (from the stored DevInf), 1.2 or 1.1


@dataclass(frozen=True, kw_only=True)
class ObexSettings:
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

    def listen_specs(self) -> tuple[ListenSpec, ...]:
        return tuple(parse_listen(text) for text in self.listen)


def _handsets(c: Checker, doc: Any) -> tuple[Handset, ...]:
    out = []
    for i, entry in enumerate(c.tables(doc, "[[obex.handset]]"), 1):
        where = f"[[obex.handset]] #{i}"
        h = c.section(entry, where, _HANDSET_KEYS, prefix=where + ": ")
        h.require("device", "via")
        device = h.get("device", "", checks.text)
        via = h.get("via", "", _via)
        encoding = h.get("encoding", "wbxml", checks.one_of(ENCODINGS))
        password = h.get("san_password", None, checks.text)
        form = h.get("form", "auto", checks.one_of(SAN_FORMS))
        if device and via:
            out.append(Handset(device=device, via=via, encoding=encoding,
                               san_password=password, form=form))
    return tuple(out)


def parse(c: Checker, doc: Any) -> ObexSettings:
    t = c.section(doc, "[obex]", _KEYS)
    d = ObexSettings()
    return ObexSettings(
        listen=tuple(t.get("listen", list(d.listen), _listen_list)),
        max_packet_length=t.get("max_packet_length", d.max_packet_length,
                                checks.integer(255, 65535)),
        idle_timeout=float(t.get("idle_timeout", d.idle_timeout, checks.seconds())),
        allow_no_target=t.get("allow_no_target", d.allow_no_target, checks.boolean),
        handsets=_handsets(c, t.raw("handset")),
    )
