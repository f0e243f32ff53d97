"""One message-oriented interface for TCP and WebSocket clients, so the command
loop in ``connection.py`` exists once."""

from typing import Protocol

from node.protocol import Rejected


class ConnectionLost(Exception):
    """The client went away, or its socket failed; the connection just ends."""


class LineStalled(Exception):
    """The client began a line and left it unfinished for too long (a slowloris)."""


class Transport(Protocol):
    peer: str

    async def receive(self) -> list[str | Rejected]:
        """The next complete line(s) from the client; raises ConnectionLost at the end,
        LineStalled when a line stays unfinished past the partial-line timeout."""
        ...

    async def send_lines(self, lines: list[str]) -> None:
        """Send lines to the client, in order; raises ConnectionLost."""
        ...

    async def close(self) -> None:
        """Close the connection; never raises."""
        ...
