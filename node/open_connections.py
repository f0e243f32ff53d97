"""Every client connection open on this node, logged in or not: the per-node cap,
and closing them all with ``bye shutdown`` when the node stops."""

from typing import Protocol

import trio

from node.protocol import ByeReason
from node.throttle import Throttle

# A node that is full logs it at most this often.
FULL_WARNING_INTERVAL = 10.0


class Closable(Protocol):
    def drop(self, reason: ByeReason) -> None: ...

    def keepalive(self, now: float, interval: float) -> None: ...

    @property
    def queued(self) -> int: ...


class OpenConnections:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: set[Closable] = set()
        self._empty = trio.Event()
        self._empty.set()
        self.refusals = Throttle(FULL_WARNING_INTERVAL)

    def __len__(self) -> int:
        return len(self._open)

    @property
    def full(self) -> bool:
        return len(self._open) >= self.limit

    def add(self, connection: Closable) -> None:
        self._open.add(connection)
        if self._empty.is_set():
            self._empty = trio.Event()

    def discard(self, connection: Closable) -> None:
        self._open.discard(connection)
        if not self._open:
            self._empty.set()

    def keepalive(self, now: float, interval: float) -> None:
        """Let every connection ping its client if it has been silent that long."""
        for connection in self._open:
            connection.keepalive(now, interval)

    def queued_lines(self) -> int:
        """Lines waiting in all outboxes (for /metrics: read when scraped)."""
        return sum(connection.queued for connection in self._open)

    def drop_all(self, reason: ByeReason) -> None:
        for connection in list(self._open):
            connection.drop(reason)

    async def wait_empty(self) -> None:
        await self._empty.wait()
