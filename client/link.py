"""The client's connection to a node, over TCP or WebSocket, with one interface."""

from collections import deque
from dataclasses import dataclass

import trio
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    connect_websocket_url,
)

from client.lines import split_lines

MAX_LINE = 1 << 20


class LinkLost(Exception):
    """The connection could not be made, or ended."""


@dataclass(frozen=True)
class Target:
    """Where to connect: a TCP host and port, or a WebSocket URL."""

    host: str = "localhost"
    port: int = 10000
    ws_url: str | None = None

    def __str__(self) -> str:
        return self.ws_url or f"{self.host}:{self.port}"


class TcpLink:
    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream
        self._lines: deque[bytes] = deque()  # received, not yet returned
        self._pending = b""  # after the last newline

    async def send(self, line: str) -> None:
        try:
            await self._stream.send_all(line.encode("utf-8") + b"\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise LinkLost(f"connection lost: {exc}") from exc

    async def receive(self) -> str:
        while not self._lines:
            if len(self._pending) > MAX_LINE:
                raise LinkLost("connection lost: the server sent an over-long line")
            try:
                data = await self._stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise LinkLost(f"connection lost: {exc}") from exc
            if not data:
                raise LinkLost("connection lost: the server closed the connection")
            lines, self._pending = split_lines(self._pending, data)
            self._lines.extend(lines)
        return self._lines.popleft().decode("utf-8", errors="replace").removesuffix("\r")

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(1):
            await self._stream.aclose()


class WsLink:
    def __init__(self, ws: WebSocketConnection) -> None:
        self._ws = ws

    async def send(self, line: str) -> None:
        try:
            await self._ws.send_message(line)
        except ConnectionClosed as exc:
            raise LinkLost("connection lost: the server closed the connection") from exc

    async def receive(self) -> str:
        try:
            message = await self._ws.get_message()
        except ConnectionClosed as exc:
            raise LinkLost("connection lost: the server closed the connection") from exc
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True), trio.move_on_after(1):
            await self._ws.aclose()


Link = TcpLink | WsLink


async def connect(target: Target, nursery: trio.Nursery) -> Link:
    """Open a link; ``nursery`` hosts the WebSocket's background reader."""
    try:
        with trio.fail_after(10):
            if target.ws_url:
                return WsLink(await connect_websocket_url(nursery, target.ws_url))
            return TcpLink(await trio.open_tcp_stream(target.host, target.port))
    except (OSError, HandshakeError, trio.TooSlowError) as exc:
        raise LinkLost(f"cannot connect to {target}: {exc}") from exc
