"""The OBEX part of the tree: one listener per ``[obex] listen`` entry (TCP and other
endpoints, serial ports, Bluetooth RFCOMM), each running the same engine as HTTP."""

from __future__ import annotations

from typing import Any

from gateway.config import Settings
from gateway.transport.listen import named
from gateway.transport.obex.links import make_listener
from gateway.transport.pool import Runner

__all__ = ["obex_listeners"]


def obex_listeners(settings: Settings, *, reactor: Any, engine: Any, run: Runner) -> list:
    """``obex-0``, ``obex-1``…; ConfigError if an endpoint cannot be built."""
    config = settings.obex.server_config(settings.server.max_msg_size)

    def build(spec: Any) -> Any:
        kwargs = dict(engine=engine, run=run, reactor=reactor, config=config,
                      base_url="obex://" + spec.text.split(":", 1)[0])
        return lambda name: make_listener(spec, name=name, reactor=reactor, run=run,
                                          protocol_kwargs=kwargs)

    return named("obex", ((spec.text, build(spec)) for spec in settings.obex.listen_specs()),
                 where="[obex] listen")
