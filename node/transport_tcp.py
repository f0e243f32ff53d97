"""Raw TCP clients: UTF-8 lines ending in ``\\n`` both ways."""

import math
import socket

import trio

from node.client_socket import ClientSocket
from node.linebuffer import LineBuffer
from node.protocol import Rejected
from node.transport import ConnectionLost, LineStalled

KEEPALIVE_PROBES = 3


def enable_keepalive(sock: socket.socket, idle_seconds: int) -> None:
    """Let the kernel find a peer that vanished without closing: after ``idle_seconds``
    of silence it probes ``KEEPALIVE_PROBES`` times, ``idle_seconds / 3`` apart, and
    then fails the socket, which ends the connection like any other loss."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    options = {"TCP_KEEPIDLE": idle_seconds, "TCP_KEEPINTVL": max(1, idle_seconds // 3),
               "TCP_KEEPCNT": KEEPALIVE_PROBES}
    for name, value in options.items():
        if hasattr(socket, name):  # Linux has all three; other systems may lack some
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


class TcpTransport:
    kind = "tcp"  # the `transport` label of chat_connections
    __slots__ = ("socket", "peer", "_lines", "_partial_line_timeout", "_line_started")

    @staticmethod
    def encode(line: str) -> bytes:
        return (line + "\n").encode("utf-8")

    def __init__(self, sock: ClientSocket, max_line_bytes: int,
                 partial_line_timeout: float = math.inf) -> None:
        self.socket = sock
        self.peer = f"tcp:{sock.address}"
        self._lines = LineBuffer(max_line_bytes)
        self._partial_line_timeout = partial_line_timeout
        self._line_started = math.inf

    async def receive(self) -> list[str | Rejected]:
        while True:
            # A deadline only while a line is unfinished (no line begun: infinity).
            data = await self.socket.receive(self._line_started + self._partial_line_timeout)
            if data is None:
                raise LineStalled(
                    f"a line stayed unfinished for {self._partial_line_timeout:g} s")
            if not data:
                raise ConnectionLost("closed by client")
            lines = self._lines.feed(data)
            # A line left unfinished starts the clock; one finished stops it.
            if not self._lines.partial:
                self._line_started = math.inf
            elif lines or self._line_started == math.inf:
                self._line_started = trio.current_time()
            if lines:
                return lines

    def keepalive(self, now: float, interval: float) -> None:
        """TCP clients rely on the kernel's keepalive (``enable_keepalive``)."""

    async def close(self) -> None:
        self.socket.close()
