"""The RFCOMM/SDP glue without Bluetooth: the adapters run a real PyOBEX session over a
stand-in stream socket, a missing AF_BLUETOOTH gives one log line, the SDP record and the
RegisterProfile message have the documented shape (omads-protocol.md §5.4)."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import fail, succeed
from twisted.internet.threads import deferToThread
from twisted.logger import capturedLogs

from gateway.transport.obex.links import (
    RfcommListenerService, open_rfcomm_socket, parse_listen)
from gateway.transport.obex.protocol import ObexSyncFactory
from gateway.transport.obex.sdp import (
    SYNCML_SERVER_UUID, BluezRegistrar, register_profile_message, service_record_xml)
from tests.obex_links.conftest import server_config
from tests.obex_links.helpers import PyObexSession, XML


class FakeRegistrar:
    def __init__(self, error: Exception | None = None):
        self.error = error
        self.registered = 0
        self.connection = None

    def register(self) -> None:
        if self.error:
            raise self.error
        self.registered += 1
        self.connection = object()

    def unregister(self) -> None:
        self.connection = None


def _run(fn: Any, *a: Any) -> Any:
    try:
        return succeed(fn(*a))
    except Exception as e:
        return fail(e)


def tcp_stand_in(channel: int) -> socket.socket:
    """What open_rfcomm_socket returns, but a TCP socket on 127.0.0.1."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    return s


@pytest.mark.interop
@pytest.mark.timeout(60)
@pytest_twisted.inlineCallbacks
def test_rfcomm_adapters_carry_a_pyobex_session(engine: Any, run: Any) -> Any:
    from twisted.internet import reactor
    from gateway.ds.server.handler import Response

    class Echo:
        def handle(self, request: Any) -> Response:
            return Response(body=b"echo:" + request.body, content_type=request.content_type,
                            session="s")

    factory = ObexSyncFactory(engine=Echo(), run=run, reactor=reactor, config=server_config(),
                              base_url="obex://bluetooth", link="rfcomm:3")
    registrar = FakeRegistrar()
    svc = RfcommListenerService(parse_listen("bluetooth:channel=3"), factory=factory,
                                reactor=reactor, run=_run, open_socket=tcp_stand_in,
                                registrar=registrar)
    svc.startService()
    port = svc.port.socket.getsockname()[1]

    def session() -> Any:
        c = PyObexSession(port)
        got = [c.exchange(b"<m%d/>" % i, XML) for i in range(3)]
        c.close()
        return got

    try:
        got = yield deferToThread(session)
    finally:
        svc.stopService()
    assert got == [b"echo:<m0/>", b"echo:<m1/>", b"echo:<m2/>"]
    assert registrar.registered == 1 and registrar.connection is None


def test_no_bluetooth_logs_one_line_and_keeps_running() -> None:
    from twisted.internet.testing import MemoryReactorClock

    def refuse(channel: int) -> socket.socket:
        raise OSError(97, "Address family not supported by protocol")

    svc = RfcommListenerService(parse_listen("bluetooth:channel=5"), factory=None,
                                reactor=MemoryReactorClock(), run=_run, open_socket=refuse)
    with capturedLogs() as events:
        svc.startService()
    lines = [e for e in events if "unavailable" in e.get("log_format", "")]
    assert len(lines) == 1 and lines[0]["listen"] == "bluetooth:channel=5"
    assert "Address family not supported" in lines[0]["error"]
    assert svc.running and svc.port is None
    svc.stopService()


def test_sdp_failure_is_one_line_and_the_listener_stays() -> None:
    from twisted.internet.testing import MemoryReactorClock
    svc = RfcommListenerService(parse_listen("bluetooth:channel=4"), factory=None,
                                reactor=MemoryReactorClock(), run=_run, open_socket=tcp_stand_in,
                                registrar=FakeRegistrar(RuntimeError("no system bus")))
    with capturedLogs() as events:
        svc.startService()
    try:
        sdp = [e for e in events if "SDP record not registered" in e.get("log_format", "")]
        assert len(sdp) == 1 and "no system bus" in sdp[0]["error"]
        assert svc.port is not None
    finally:
        svc.stopService()


def test_open_rfcomm_socket_without_bluetooth_raises_oserror() -> None:
    if hasattr(socket, "AF_BLUETOOTH"):
        # a Python with the constant: the kernel may still refuse (EAFNOSUPPORT)
        try:
            open_rfcomm_socket(1).close()
        except OSError:
            pass
    else:
        with pytest.raises(OSError, match="AF_BLUETOOTH"):
            open_rfcomm_socket(1)


def test_service_record_shape() -> None:
    root = ET.fromstring(service_record_xml(7))
    attrs = {a.get("id"): a for a in root.findall("attribute")}
    assert attrs["0x0001"].find("sequence/uuid").get("value") == SYNCML_SERVER_UUID
    protos = attrs["0x0004"].findall("sequence/sequence")
    assert [p.find("uuid").get("value") for p in protos] == ["0x0100", "0x0003", "0x0008"]
    assert protos[1].find("uint8").get("value") == "0x07"
    assert attrs["0x0005"].find("sequence/uuid").get("value") == "0x1002"
    assert attrs["0x0009"].find("sequence/sequence/uint16").get("value") == "0x0100"
    assert attrs["0x0100"].find("text").get("value") == "SyncML Server"
    with pytest.raises(ValueError):
        service_record_xml(31)


def test_register_profile_message() -> None:
    from jeepney.low_level import HeaderFields
    msg = register_profile_message(9)
    fields = msg.header.fields
    assert fields[HeaderFields.member] == "RegisterProfile"
    assert fields[HeaderFields.interface] == "org.bluez.ProfileManager1"
    assert fields[HeaderFields.signature] == "osa{sv}"
    path, uuid, options = msg.body
    assert path == "/org/omads/gateway/syncml" and uuid == SYNCML_SERVER_UUID
    assert options["Channel"] == ("q", 9) and options["Role"] == ("s", "server")
    assert "0x09" in options["ServiceRecord"][1]


def test_registrar_keeps_the_connection_and_closes_it() -> None:
    from jeepney import MessageType

    class Reply:
        class header:
            message_type = MessageType.method_return
        body = ()

    class Conn:
        closed = False
        sent: list = []

        def send_and_get_reply(self, msg: Any, timeout: float) -> Any:
            self.sent.append(msg)
            return Reply()

        def close(self) -> None:
            self.closed = True

    conn = Conn()
    reg = BluezRegistrar(3, connect=lambda: conn)
    reg.register()
    assert reg.connection is conn and not conn.closed and len(conn.sent) == 1
    reg.unregister()
    assert conn.closed

    class Refused(Reply):
        class header:
            message_type = MessageType.error
        body = ("org.bluez.Error.NotPermitted",)

    conn2 = Conn()
    conn2.send_and_get_reply = lambda msg, timeout: Refused()
    with pytest.raises(RuntimeError, match="refused"):
        BluezRegistrar(3, connect=lambda: conn2).register()
    assert conn2.closed


def test_parse_listen() -> None:
    assert parse_listen("tcp:6500:interface=127.0.0.1").kind == "endpoint"
    s = parse_listen("serial:/dev/ttyUSB0:baudrate=9600")
    assert (s.kind, s.device, s.baudrate) == ("serial", "/dev/ttyUSB0", 9600)
    b = parse_listen("bluetooth:channel=12:sdp=no")
    assert (b.kind, b.channel, b.sdp) == ("bluetooth", 12, False)
    for bad in ("", "serial:tty", "serial:/dev/x:speed=1", "bluetooth:channel=0",
                "bluetooth:", "udp:650", "tcp:notaport"):
        with pytest.raises(ValueError):
            parse_listen(bad)
