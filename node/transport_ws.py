"""WebSocket clients (RFC 6455): one line per text message, both ways.

wsproto does the framing; this is the thin driver around it. A trailing ``\\n`` (or
``\\r\\n``) in a message is tolerated; a message holding several lines, a binary
message, or a message over the line limit gets an error and the connection stays
open. The hard message cap is enforced on the fragments as they arrive: past it the
connection is closed with 1009 at once, never buffered to the end. A ping goes out
(``keepalive``, called by the node's pinger) to a client silent for the ping interval.
Lines go out as frames built
once per line (``encode_frame``: frames from a server are not masked, so one frame
serves every client), through the client's socket like any other bytes.
"""

import contextlib
import math

import trio
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError

from node.client_socket import ClientSocket
from node.linebuffer import too_long
from node.protocol import ErrorCode, Rejected
from node.transport import ConnectionLost, LineStalled

# How long a closing connection waits for the client's own close frame.
CLOSE_WAIT_SECONDS = 1.0
# Frames server -> client carry no mask and, without extensions, no state: one
# wsproto connection that only ever sends whole text messages frames them for all.
_FRAMER = WsConnection(ConnectionType.SERVER)


def encode_frame(line: str) -> bytes:
    """One text frame holding ``line``."""
    return _FRAMER.send(TextMessage(data=line))


def frame_to_line(text: str, max_line_bytes: int) -> str | Rejected:
    """Turn one text message into one protocol line, or the reason it is refused."""
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if "\n" in text:
        return Rejected(ErrorCode.BAD_FRAME, "send one line per frame")
    if len(text.encode("utf-8")) > max_line_bytes:
        return too_long(max_line_bytes)
    return text


class _MessageTooBig(Exception):
    pass


class WebSocketTransport:
    kind = "ws"  # the `transport` label of chat_connections

    @staticmethod
    def encode(line: str) -> bytes:
        return encode_frame(line)

    __slots__ = ("socket", "peer", "_ws", "_max_line_bytes", "_max_message",
                 "_partial_line_timeout", "_parts", "_size", "_message_started", "_heard")

    def __init__(self, sock: ClientSocket, ws: WsConnection, *, max_line_bytes: int,
                 max_message: int, partial_line_timeout: float = math.inf) -> None:
        self.socket = sock
        self.peer = f"ws:{sock.address}"
        self._ws = ws
        self._max_line_bytes = max_line_bytes
        self._max_message = max_message  # characters of text, bytes of binary
        self._partial_line_timeout = partial_line_timeout
        self._heard = trio.current_time()
        self._parts: list[str | bytes] = []
        self._size = 0
        self._message_started = math.inf

    # -- receiving -------------------------------------------------------------
    async def receive(self) -> list[str | Rejected]:
        lines: list[str | Rejected] = []
        while True:
            for event in self._ws.events():
                line = await self._handle(event)
                if line is not None:
                    lines.append(line)
            if lines:
                return lines
            # A deadline only while a message is unfinished (none begun: infinity).
            data = await self.socket.receive(self._message_started
                                             + self._partial_line_timeout)
            if data is None:
                raise LineStalled(f"a message stayed unfinished for "
                                  f"{self._partial_line_timeout:g} s")
            self._heard = trio.current_time()
            self._ws.receive_data(data or None)

    async def _handle(self, event: Event) -> str | Rejected | None:
        if isinstance(event, Message):
            try:
                return self._add_fragment(event)
            except _MessageTooBig:
                await self._close(CloseReason.MESSAGE_TOO_BIG)
                raise ConnectionLost("message over the cap; closed (1009)") from None
        if isinstance(event, Ping):
            self.socket.write(self._ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                with contextlib.suppress(ConnectionLost):
                    self.socket.write(self._ws.send(event.response()))
            raise ConnectionLost(f"websocket closed ({event.code})")
        return None

    def _add_fragment(self, event: Message) -> str | Rejected | None:
        self._size += len(event.data)
        if self._size > self._max_message:
            raise _MessageTooBig
        if not event.message_finished:
            self._parts.append(event.data)
            self._message_started = min(self._message_started, trio.current_time())
            return None
        parts, self._parts, self._size = [*self._parts, event.data], [], 0
        self._message_started = math.inf
        if isinstance(event, BytesMessage):
            return Rejected(ErrorCode.BAD_FRAME, "binary frames are not accepted; send text")
        return frame_to_line("".join(str(part) for part in parts), self._max_line_bytes)

    def keepalive(self, now: float, interval: float) -> None:
        """Ping the client if it has been silent for ``interval``: a dead peer is found
        when the ping cannot be delivered, and proxies keep the connection open."""
        if now - self._heard >= interval and self._ws.state is ConnectionState.OPEN:
            self._heard = now  # one ping per silent interval
            with contextlib.suppress(ConnectionLost, LocalProtocolError):
                self.socket.write(self._ws.send(Ping()))

    # -- closing ---------------------------------------------------------------
    async def close(self) -> None:
        with trio.CancelScope(shield=True):
            await self._close(CloseReason.NORMAL_CLOSURE)

    async def _close(self, code: CloseReason) -> None:
        """Send a close frame if none was sent, give the client a moment to answer
        with its own, then close the socket. Never raises."""
        with trio.move_on_after(CLOSE_WAIT_SECONDS):
            with contextlib.suppress(ConnectionLost, LocalProtocolError):
                if self._ws.state is ConnectionState.OPEN:
                    self.socket.write(self._ws.send(CloseConnection(code=code)))
                await self.socket.drain()
                await self._drain_until_closed()
        self.socket.close()

    async def _drain_until_closed(self) -> None:
        """Read and discard until the client's close frame (or its end of stream)."""
        while self._ws.state is ConnectionState.LOCAL_CLOSING:
            data = await self.socket.receive()
            self._ws.receive_data(data or None)
            for _ in self._ws.events():
                pass
