"""The carriers configured in ``[notify]``: one per ``[notify.<kind>]`` table."""

from __future__ import annotations

from typing import Any

from gateway.transport.notify.carriers.base import Carrier
from gateway.transport.notify.carriers.kannel import KannelCarrier
from gateway.transport.notify.carriers.modem import ModemCarrier
from gateway.transport.notify.carriers.pap import PAPCarrier
from gateway.transport.notify.carriers.sip import SIPCarrier
from gateway.transport.notify.carriers.udp import UDPCarrier


def build_carriers(settings: Any, *, reactor: Any) -> dict[str, Carrier]:
    """One carrier per configured ``[notify.<kind>]`` table."""
    carriers: dict[str, Carrier] = {}
    if settings.udp is not None:
        carriers["udp"] = UDPCarrier(settings.udp, reactor=reactor)
    if settings.sip is not None:
        carriers["sip"] = SIPCarrier(settings.sip, reactor=reactor)
    if settings.kannel is not None:
        carriers["kannel"] = KannelCarrier(settings.kannel, reactor=reactor)
    if settings.pap is not None:
        carriers["pap"] = PAPCarrier(settings.pap, reactor=reactor)
    if settings.modem is not None:
        carriers["modem"] = ModemCarrier(settings.modem, reactor=reactor)
    return carriers
