"""WebSocket clients (RFC 6455) on a trio stream: one line per text message, both ways.

wsproto does the framing; this is the thin driver around it. A trailing ``\\n`` (or
``\\r\\n``) in a message is tolerated; a message holding several lines, a binary
message, or a message over the line limit gets an error and the connection stays
open. The hard message cap is enforced on the fragments as they arrive: past it the
connection is closed with 1009 at once, never buffered to the end. A ping goes out
after ``ping_interval`` without hearing from the client.
"""

import contextlib
import math

import trio
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionState
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

from node.linebuffer import too_long
from node.protocol import ErrorCode, Rejected
from node.transport import ConnectionLost, LineStalled

RECEIVE_CHUNK = 65536
# How long a closing connection waits for the client's own close frame.
CLOSE_WAIT_SECONDS = 1.0
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


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
    def __init__(self, stream: trio.SocketStream, ws: WsConnection, peer: str, *,
                 max_line_bytes: int, max_message: int, ping_interval: float = 20.0,
                 partial_line_timeout: float = math.inf) -> None:
        self.peer = peer
        self._stream = stream
        self._ws = ws
        self._max_line_bytes = max_line_bytes
        self._max_message = max_message  # characters of text, bytes of binary
        self._ping_interval = ping_interval
        self._partial_line_timeout = partial_line_timeout
        self._send_lock = trio.Lock()  # the writer task and the reader's pongs share it
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
            data = await self._receive_some()
            self._ws.receive_data(data or None)

    async def _handle(self, event: Event) -> str | Rejected | None:
        if isinstance(event, Message):
            try:
                return self._add_fragment(event)
            except _MessageTooBig:
                await self._close(CloseReason.MESSAGE_TOO_BIG)
                raise ConnectionLost("message over the cap; closed (1009)") from None
        if isinstance(event, Ping):
            await self._send_bytes(self._ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                with contextlib.suppress(ConnectionLost):
                    await self._send_bytes(self._ws.send(event.response()))
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

    async def _receive_some(self) -> bytes:
        """The next bytes from the client; pings it while it is silent."""
        while True:
            stall_at = self._message_started + self._partial_line_timeout
            with trio.move_on_at(min(stall_at, trio.current_time() + self._ping_interval)):
                try:
                    return await self._stream.receive_some(RECEIVE_CHUNK)
                except _STREAM_ERRORS as exc:
                    raise ConnectionLost(str(exc)) from exc
            if trio.current_time() >= stall_at:
                raise LineStalled(f"a message stayed unfinished for "
                                  f"{self._partial_line_timeout:g} s")
            await self._send_bytes(self._ws.send(Ping()))

    # -- sending ---------------------------------------------------------------
    async def send_lines(self, lines: list[str]) -> None:
        try:
            data = b"".join(self._ws.send(TextMessage(data=line)) for line in lines)
        except LocalProtocolError as exc:  # closing already: nothing more may be sent
            raise ConnectionLost(str(exc)) from exc
        await self._send_bytes(data)

    async def _send_bytes(self, data: bytes) -> None:
        async with self._send_lock:
            try:
                await self._stream.send_all(data)
            except _STREAM_ERRORS as exc:
                raise ConnectionLost(str(exc)) from exc

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
                    await self._send_bytes(self._ws.send(CloseConnection(code=code)))
                await self._drain_until_closed()
        with trio.move_on_after(CLOSE_WAIT_SECONDS), contextlib.suppress(*_STREAM_ERRORS):
            await self._stream.aclose()

    async def _drain_until_closed(self) -> None:
        """Read and discard until the client's close frame (or its end of stream)."""
        while self._ws.state is ConnectionState.LOCAL_CLOSING:
            try:
                data = await self._stream.receive_some(RECEIVE_CHUNK)
            except _STREAM_ERRORS:
                return
            self._ws.receive_data(data or None)
            for _ in self._ws.events():
                pass
