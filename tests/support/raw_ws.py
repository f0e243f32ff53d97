"""A WebSocket client at the frame level (wsproto over a real socket), for what
ordinary clients cannot do: send one message as many fragments, leave a message
unfinished, see the server's pings and close codes as they arrive."""

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Event,
    Message,
    RejectConnection,
    Request,
    TextMessage,
)

TIMEOUT = 5.0


class RawWebSocket:
    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[Event] = []

    @classmethod
    async def connect(cls, port: int, origin: str | None = None) -> "RawWebSocket":
        client, status = await cls.handshake(port, origin)
        if status != 101:
            raise AssertionError(f"handshake refused with {status}")
        return client

    @classmethod
    async def handshake(cls, port: int,
                        origin: str | None = None) -> tuple["RawWebSocket", int]:
        """Open the socket and ask for /ws: the client, and 101 or the refusal's status."""
        client = cls(await trio.open_tcp_stream("127.0.0.1", port))
        headers = [(b"origin", origin.encode())] if origin is not None else []
        await client.stream.send_all(client.ws.send(
            Request(host=f"127.0.0.1:{port}", target="/ws", extra_headers=headers)))
        event = await client.next_event()
        if isinstance(event, RejectConnection):
            return client, event.status_code
        assert isinstance(event, AcceptConnection), event
        return client, 101

    async def send_text(self, text: str, *, finished: bool = True) -> None:
        await self.stream.send_all(self.ws.send(TextMessage(data=text, message_finished=finished)))

    async def next_event(self, timeout: float = TIMEOUT) -> Event:
        """The next event; a ``CloseConnection(1006)`` once the socket has ended."""
        with trio.fail_after(timeout):
            while not self.pending:
                self.pending.extend(self.ws.events())
                if self.pending:
                    break
                try:
                    data = await self.stream.receive_some(65536)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                self.ws.receive_data(data or None)
        return self.pending.pop(0)

    async def messages_until_closed(self, timeout: float = TIMEOUT) -> tuple[list[str], int]:
        """Text messages received until the server's close frame, and its code (a
        message arriving in pieces is put back together)."""
        texts: list[str] = []
        parts: list[str] = []
        while True:
            event = await self.next_event(timeout)
            if isinstance(event, CloseConnection):
                return texts, event.code
            if isinstance(event, Message):
                parts.append(str(event.data))
                if event.message_finished:
                    texts.append("".join(parts))
                    parts = []

    async def socket_closed(self, timeout: float = TIMEOUT) -> None:
        """Wait until the server has closed the TCP connection itself."""
        with trio.fail_after(timeout):
            while True:
                try:
                    if not await self.stream.receive_some(65536):
                        return
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return

    async def close(self) -> None:
        await self.stream.aclose()
