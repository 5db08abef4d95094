"""The SyncML service record for Bluetooth SDP, registered with BlueZ over D-Bus.

Record shape (omads-protocol.md §5.4): ServiceClassIDList = the SyncML Server UUID;
ProtocolDescriptorList = L2CAP (0x0100), RFCOMM (0x0003) + channel, OBEX (0x0008);
BrowseGroupList = PublicBrowseGroup (0x1002); BluetoothProfileDescriptorList = the same
UUID, version 0x0100; ServiceName. The record is BlueZ's SDP XML, handed to
``org.bluez.ProfileManager1.RegisterProfile`` (BlueZ doc/profile-api.txt) as the
``ServiceRecord`` option; BlueZ keeps the record while our bus connection stays open.
The D-Bus client is ``jeepney`` (pure Python, blocking): call ``register`` off the
reactor thread.
"""

from __future__ import annotations

from typing import Any, Callable
from xml.sax.saxutils import quoteattr

__all__ = ["SYNCML_SERVER_UUID", "SYNCML_CLIENT_UUID", "service_record_xml",
           "register_profile_message", "BluezRegistrar", "PROFILE_PATH"]

#: §5.4: canonical SyncML Server / Client service UUIDs (no 16-bit alias exists).
SYNCML_SERVER_UUID = "00000001-0000-1000-8000-0002ee000002"
SYNCML_CLIENT_UUID = "00000002-0000-1000-8000-0002ee000002"
#: SDP attribute ids and protocol UUIDs (Bluetooth Assigned Numbers, SDP).
ATTR_SERVICE_CLASS_ID_LIST = 0x0001
ATTR_PROTOCOL_DESCRIPTOR_LIST = 0x0004
ATTR_BROWSE_GROUP_LIST = 0x0005
ATTR_PROFILE_DESCRIPTOR_LIST = 0x0009
ATTR_SERVICE_NAME = 0x0100
UUID_L2CAP, UUID_RFCOMM, UUID_OBEX, UUID_PUBLIC_BROWSE = 0x0100, 0x0003, 0x0008, 0x1002
PROFILE_PATH = "/org/omads/gateway/syncml"
BLUEZ = "org.bluez"


def _uuid16(value: int) -> str:
    return f'<uuid value="0x{value:04x}" />'


def service_record_xml(channel: int, *, uuid: str = SYNCML_SERVER_UUID,
                       name: str = "SyncML Server") -> str:
    """BlueZ SDP XML for a SyncML service on RFCOMM ``channel`` (1..30)."""
    if not 1 <= channel <= 30:
        raise ValueError(f"RFCOMM channel {channel} is not within 1..30")
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<record>\n'
        f'  <attribute id="0x{ATTR_SERVICE_CLASS_ID_LIST:04x}"><sequence>'
        f'<uuid value="{uuid}" /></sequence></attribute>\n'
        f'  <attribute id="0x{ATTR_PROTOCOL_DESCRIPTOR_LIST:04x}"><sequence>'
        f'<sequence>{_uuid16(UUID_L2CAP)}</sequence>'
        f'<sequence>{_uuid16(UUID_RFCOMM)}<uint8 value="0x{channel:02x}" /></sequence>'
        f'<sequence>{_uuid16(UUID_OBEX)}</sequence></sequence></attribute>\n'
        f'  <attribute id="0x{ATTR_BROWSE_GROUP_LIST:04x}"><sequence>'
        f'{_uuid16(UUID_PUBLIC_BROWSE)}</sequence></attribute>\n'
        f'  <attribute id="0x{ATTR_PROFILE_DESCRIPTOR_LIST:04x}"><sequence><sequence>'
        f'<uuid value="{uuid}" /><uint16 value="0x0100" /></sequence></sequence></attribute>\n'
        f'  <attribute id="0x{ATTR_SERVICE_NAME:04x}"><text value={quoteattr(name)} />'
        '</attribute>\n</record>\n')


def register_profile_message(channel: int, *, uuid: str = SYNCML_SERVER_UUID,
                             name: str = "SyncML Server", path: str = PROFILE_PATH) -> Any:
    """The jeepney message for ProfileManager1.RegisterProfile(o path, s uuid, a{sv})."""
    from jeepney import DBusAddress, new_method_call
    manager = DBusAddress("/org/bluez", bus_name=BLUEZ, interface="org.bluez.ProfileManager1")
    options = {
        "Name": ("s", name),
        "Role": ("s", "server"),
        "Channel": ("q", channel),
        "RequireAuthentication": ("b", False),
        "ServiceRecord": ("s", service_record_xml(channel, uuid=uuid, name=name)),
    }
    return new_method_call(manager, "RegisterProfile", "osa{sv}", (path, uuid, options))


class BluezRegistrar:
    """Registers the record on the system bus and keeps the connection (= the record)."""

    def __init__(self, channel: int, *, timeout: float = 5.0,
                 connect: Callable[[], Any] | None = None):
        self.channel = channel
        self.timeout = timeout
        self._connect = connect
        self.connection: Any = None

    def register(self) -> None:
        """Blocking; raises on any failure (no bus, no BlueZ, refused)."""
        from jeepney import MessageType
        if self._connect is None:
            from jeepney.io.blocking import open_dbus_connection
            conn = open_dbus_connection(bus="SYSTEM")
        else:
            conn = self._connect()
        try:
            reply = conn.send_and_get_reply(register_profile_message(self.channel),
                                            timeout=self.timeout)
            if reply.header.message_type is MessageType.error:
                raise RuntimeError(f"BlueZ refused the SDP record: {reply.body}")
        except BaseException:
            conn.close()
            raise
        self.connection = conn

    def unregister(self) -> None:
        """Closing our bus connection makes BlueZ drop the profile and its record."""
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.close()
