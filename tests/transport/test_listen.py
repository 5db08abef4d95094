"""The one listener helper (gateway/transport/listen.py): named listeners from endpoint
strings, bound at privileged start, a port that cannot be bound refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactor
from twisted.logger import capturedLogs

from gateway.config import ConfigError
from gateway.service import GatewayService
from gateway.transport.listen import ListenError, Listener, listener, listeners


class BusyReactor(MemoryReactor):
    """Every TCP port is taken."""

    def listenTCP(self, port: int, factory: Any, backlog: int = 50,
                  interface: str = "") -> Any:
        raise CannotListenError(interface, port, OSError(98, "Address already in use"))


class LateEndpoint:
    """An endpoint whose listen() settles later (none of ours, but the helper copes)."""

    def __init__(self) -> None:
        self.pending: Deferred[Any] = Deferred()

    def listen(self, factory: Any) -> Deferred[Any]:
        return self.pending


def factory() -> Factory:
    return Factory.forProtocol(Protocol)


def test_listeners_are_named_and_bind_at_privileged_start() -> None:
    reactor = MemoryReactor()
    f = factory()
    made = listeners(reactor, ["tcp:8080:interface=127.0.0.1", "tcp:8081"], f,
                     prefix="http", where="[http] listen")
    assert [(m.name, m.description) for m in made] == [
        ("http-0", "tcp:8080:interface=127.0.0.1"), ("http-1", "tcp:8081")]
    assert all(isinstance(m, Listener) and m.factory is f for m in made)
    assert reactor.tcpServers == []
    for m in made:
        m.privilegedStartService()
    assert [(p, i) for p, fac, _, i in reactor.tcpServers] == [(8080, "127.0.0.1"), (8081, "")]
    for m in made:
        m.startService()                 # already listening: no second bind
    assert len(reactor.tcpServers) == 2
    stopped: list[str] = []
    for m in made:
        m.port.stopListening = lambda name=m.name: stopped.append(name)
        assert m.stopService().called and m.port is None
    assert stopped == ["http-0", "http-1"]


def test_start_without_privileged_start_still_binds() -> None:
    reactor = MemoryReactor()
    one = listener(reactor, "tcp:9000", factory(), name="x-0")
    one.startService()
    assert [p for p, *_ in reactor.tcpServers] == [9000] and one.port is not None


def test_unbuildable_endpoints_are_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        listeners(MemoryReactor(), ["tcp:1", f"ssl:8443:privateKey={tmp_path}/none.pem",
                                    "unix:/x", f"ssl:8444:privateKey={tmp_path}/also.pem"],
                  factory(), prefix="http", where="[http] listen")
    assert info.value.source == "[http] listen"
    assert len(info.value.problems) == 2
    assert "none.pem" in info.value.problems[0] and "also.pem" in info.value.problems[1]


def test_a_port_in_use_is_one_line() -> None:
    one = listener(BusyReactor(), "tcp:8080:interface=127.0.0.1", factory(), name="http-0")
    with pytest.raises(ListenError) as info:
        one.privilegedStartService()
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith("http-0: cannot listen on tcp:8080:interface=127.0.0.1: ")
    assert "Address already in use" in text


def test_the_root_turns_it_into_a_log_line_and_exit_1() -> None:
    top = GatewayService()
    listener(BusyReactor(), "tcp:8080", factory(), name="http-0").setServiceParent(top)
    with capturedLogs() as events, pytest.raises(SystemExit) as info:
        top.privilegedStartService()
    assert info.value.code == 1
    critical = [e for e in events if e.get("log_level") is not None
                and e["log_level"].name == "critical"]
    assert len(critical) == 1
    assert critical[0]["problem"].startswith("http-0: cannot listen on tcp:8080: ")


def test_an_endpoint_that_binds_later() -> None:
    late = LateEndpoint()
    one = Listener("x-0", late, factory(), description="late:1")
    one.privilegedStartService()
    one.startService()                   # still waiting: no second listen
    with capturedLogs() as events:
        late.pending.errback(CannotListenError("", 1, OSError(98, "in use")))
    assert one.port is None
    assert [e["problem"] for e in events if "problem" in e] == [
        "x-0: cannot listen on late:1: Couldn't listen on any:1: [Errno 98] in use"]
    stopped = Listener("x-1", LateEndpoint(), factory(), description="late:2")
    stopped.startService()
    with capturedLogs() as events:
        assert stopped.stopService().called   # cancels the wait, logs nothing
    assert not [e for e in events if "problem" in e]
