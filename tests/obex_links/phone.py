"""A fake handset for the dialling tests: an OBEX server (the project's own I/O-free core)
that takes the SAN, then hands out captured SyncEvolution client messages one per GET
and records what the gateway PUTs."""

from __future__ import annotations

from typing import Any

from twisted.internet.protocol import Factory, Protocol

from gateway.obex import (ConnectionClosed, GetRequest, GetResponse, ObexServer, PutRequest,
                          Response, ResponseCode, ServerConfig)


class Phone(Protocol):
    def __init__(self, messages: list[bytes], ctype: str, at_first: bool = False):
        self.messages = list(messages)
        self.ctype = ctype
        self.core = ObexServer(ServerConfig(max_packet_length=4096), now=0.0)
        self.puts: list[PutRequest] = []
        self.gets = 0
        self.closed = False
        self.at_first = at_first
        self.at_lines: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        if self.at_first:
            self.at_lines.append(data)
            if b"AT+CPROT=0\r" in b"".join(self.at_lines):
                self.at_first = False
                self.transport.write(b"\r\nCONNECT\r\n")
            return
        self.core.receive_data(data, 0.0)
        self.transport.write(self.core.data_to_send())
        for event in self.core.events():
            if isinstance(event, PutRequest):
                self.puts.append(event)
                self.transport.write(self.core.send(Response(code=ResponseCode.SUCCESS), 0.0))
            elif isinstance(event, GetRequest):
                self.gets += 1
                if self.messages:
                    reply = GetResponse(body=self.messages.pop(0), type=self.ctype)
                else:
                    reply = Response(code=ResponseCode.INTERNAL_SERVER_ERROR)
                self.transport.write(self.core.send(reply, 0.0))
            elif isinstance(event, ConnectionClosed):
                self.closed = True
                self.transport.loseConnection()


class PhoneFactory(Factory):
    def __init__(self, messages: list[bytes], ctype: str):
        self.messages = messages
        self.ctype = ctype
        self.phones: list[Phone] = []

    def buildProtocol(self, addr: Any) -> Phone:
        phone = Phone(self.messages, self.ctype)
        self.phones.append(phone)
        return phone
