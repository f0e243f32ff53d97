"""WebSocket clients, as an ASGI websocket scope: one line per text frame, both ways.

A trailing ``\\n`` (or ``\\r\\n``) in a frame is tolerated; a frame holding several
lines, a binary frame, or a frame over the line limit gets an error and the
connection stays open. Frames over the server's hard frame cap are closed by
the WebSocket layer itself with code 1009.
"""

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from node.linebuffer import too_long
from node.protocol import ErrorCode, Rejected
from node.transport import ConnectionLost

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def frame_to_line(text: str, max_line_bytes: int) -> str | Rejected:
    """Turn one text frame into one protocol line, or the reason it is refused."""
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if "\n" in text:
        return Rejected(ErrorCode.BAD_FRAME, "send one line per frame")
    if len(text.encode("utf-8")) > max_line_bytes:
        return too_long(max_line_bytes)
    return text


class WebSocketTransport:
    def __init__(self, scope: dict[str, Any], receive: Receive, send: Send,
                 max_line_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self._max = max_line_bytes
        client = scope.get("client") or ("?", 0)
        self.peer = f"ws:{client[0]}:{client[1]}"

    async def receive(self) -> list[str | Rejected]:
        event = await self._receive()
        if event["type"] != "websocket.receive":
            raise ConnectionLost(f"websocket closed ({event.get('code', '?')})")
        if event.get("text") is None:
            return [Rejected(ErrorCode.BAD_FRAME, "binary frames are not accepted; send text")]
        return [frame_to_line(event["text"], self._max)]

    async def send_lines(self, lines: list[str]) -> None:
        try:
            for line in lines:
                await self._send({"type": "websocket.send", "text": line})
        except Exception as exc:  # the ASGI server's own disconnect errors vary by version
            raise ConnectionLost(repr(exc)) from exc

    async def close(self) -> None:
        # Already closed by the client: nothing left to do.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": 1000})
