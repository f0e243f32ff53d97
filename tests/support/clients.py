"""Test clients that speak the line protocol over a real TCP socket or WebSocket.

Both have the same interface: ``send``, ``next_line``, ``expect`` (skip lines
until one matches), ``closed``. Every wait has a deadline.
"""

from collections import deque
from collections.abc import Callable

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, connect_websocket_url

from client.lines import split_lines

TIMEOUT = 5.0
Match = str | Callable[[str], bool]


def _short(lines: list[str]) -> list[str]:
    """Lines for an assertion message, each cut to a readable length."""
    return [line if len(line) < 120 else f"{line[:100]}...({len(line)} chars)"
            for line in lines[-20:]]


def starts(prefix: str) -> Callable[[str], bool]:
    """A match for ``expect``: the first line beginning with ``prefix``."""
    return lambda line: line.startswith(prefix)


def joined(name: str) -> Callable[[str], bool]:
    """A match for ``expect``: a `join` line naming ``name`` (joins close together
    arrive merged into one line)."""
    return lambda line: line.startswith("join ") and name in line.split()[1:]


def _matches(line: str, match: Match) -> bool:
    return line == match if isinstance(match, str) else match(line)


class LineClient:
    kind = "?"
    skipped: list[str]

    async def _receive(self) -> str | None:
        raise NotImplementedError

    async def send(self, line: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def next_line(self, timeout: float = TIMEOUT) -> str:
        with trio.fail_after(timeout):
            line = await self._receive()
        if line is None:
            raise AssertionError(f"{self.kind} connection closed; skipped {_short(self.skipped)}")
        return line

    async def expect(self, match: Match, timeout: float = TIMEOUT) -> str:
        """The first line, among those passed over earlier or arriving next, that
        matches; the others stay in ``skipped`` for later ``expect`` calls."""
        for index, line in enumerate(self.skipped):
            if _matches(line, match):
                del self.skipped[index]
                return line
        try:
            with trio.fail_after(timeout):
                while True:
                    line = await self._receive()
                    if line is None:
                        raise AssertionError(f"closed while waiting for {match!r}; "
                                             f"got {_short(self.skipped)}")
                    if _matches(line, match):
                        return line
                    self.skipped.append(line)
        except trio.TooSlowError:
            raise AssertionError(f"no line matching {match!r} within {timeout}s; "
                                 f"got {_short(self.skipped)}") from None

    async def request(self, line: str, timeout: float = TIMEOUT) -> str:
        """Send a command and return the next ok/error line (its one reply)."""
        await self.send(line)
        return await self.expect(lambda line: line.startswith(("ok ", "error ")),
                                 timeout)

    async def login(self, name: str) -> list[str]:
        """Log in; returns the sorted names of the `users` line."""
        reply = await self.request(f"login {name}")
        assert reply == f"ok login {name}", reply
        users = await self.expect(starts("users "))
        return users.split()[1:]

    async def closed(self, timeout: float = TIMEOUT) -> list[str]:
        """Wait for the server to close; returns the lines received meanwhile."""
        rest = []
        with trio.fail_after(timeout):
            while (line := await self._receive()) is not None:
                rest.append(line)
        return rest


class TcpClient(LineClient):
    kind = "tcp"

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self._lines: deque[bytes] = deque()  # received, not yet returned
        self._pending = b""  # after the last newline
        self.skipped = []

    @classmethod
    async def connect(cls, port: int) -> "TcpClient":
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def send_bytes(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def send(self, line: str) -> None:
        await self.stream.send_all(line.encode() + b"\n")

    async def _receive(self) -> str | None:
        while not self._lines:
            try:
                data = await self.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return None
            if not data:
                return None
            lines, self._pending = split_lines(self._pending, data)
            self._lines.extend(lines)
        return self._lines.popleft().decode()

    async def close(self) -> None:
        await self.stream.aclose()


class WsClient(LineClient):
    kind = "ws"

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.skipped = []

    @classmethod
    async def connect(cls, nursery: trio.Nursery, http_port: int,
                      origin: str | None = None) -> "WsClient":
        """``origin``: the page a browser would say the socket comes from (none by default,
        as for non-browser clients)."""
        url = f"ws://127.0.0.1:{http_port}/ws"
        headers = [(b"Origin", origin.encode())] if origin else None
        return cls(await connect_websocket_url(nursery, url, message_queue_size=4096,
                                               extra_headers=headers))

    async def send(self, line: str) -> None:
        await self.ws.send_message(line)

    async def send_bytes(self, data: bytes) -> None:
        await self.ws.send_message(data)

    async def _receive(self) -> str | None:
        try:
            message = await self.ws.get_message()
        except ConnectionClosed:
            return None
        assert isinstance(message, str), f"server sent a binary frame {message!r}"
        return message

    async def close(self) -> None:
        await self.ws.aclose()
