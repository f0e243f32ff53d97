"""One message-oriented interface for TCP and WebSocket clients, so the command
loop in ``connection.py`` exists once."""

from typing import TYPE_CHECKING, Protocol

from node.protocol import Rejected

if TYPE_CHECKING:
    from node.client_socket import ClientSocket


class ConnectionLost(Exception):
    """The client went away, or its socket failed; the connection just ends."""


class LineStalled(Exception):
    """The client began a line and left it unfinished for too long (a slowloris)."""


class Transport(Protocol):
    kind: str  # "tcp" or "ws"
    peer: str
    socket: "ClientSocket"

    @staticmethod
    def encode(line: str) -> bytes:
        """One line as bytes on the wire; a plain function, the same for every client
        of the transport (``Prepared`` caches its result under it)."""
        ...

    async def receive(self) -> list[str | Rejected]:
        """The next complete line(s) from the client; raises ConnectionLost at the end,
        LineStalled when a line stays unfinished past the partial-line timeout."""
        ...

    def keepalive(self, now: float, interval: float) -> None:
        """Called now and then by the node: ping a client silent for ``interval``."""
        ...

    async def close(self) -> None:
        """End the connection (the WebSocket closing handshake) and close the socket;
        never raises."""
        ...
