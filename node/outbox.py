"""A client's bounded send queue and the single task that writes it to the socket.

The client's own replies ``put`` (waiting for room: backpressure on that client
alone); everyone else's events ``offer`` without waiting, and a full outbox
means the client is too slow: the caller disconnects it. The writer takes
everything queued at once and sends it in one call. ``close`` ends the queue,
optionally with one last line (``bye <reason>``) after what is queued or instead
of it; the writer sends what is left and returns.
"""

from collections import deque

from trio.lowlevel import ParkingLot

from node.transport import Transport

MAX_BATCH = 256


class Outbox:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lines: deque[str] = deque()
        self._closed = False
        self._writer = ParkingLot()  # the writer waits here for lines
        self._room = ParkingLot()  # `put` waits here for room

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def closed(self) -> bool:
        return self._closed

    async def put(self, line: str) -> None:
        """Queue one of the client's own reply lines, waiting for room. After ``close``
        the line is dropped: the connection is ending."""
        while len(self._lines) >= self._capacity and not self._closed:
            await self._room.park()
        if not self._closed:
            self._append(line)

    def offer(self, line: str) -> bool:
        """Queue an event without waiting; False if the outbox is full. After ``close``
        the line is dropped and True returned: the connection is ending anyway."""
        if self._closed:
            return True
        if len(self._lines) >= self._capacity:
            return False
        self._append(line)
        return True

    def _append(self, line: str) -> None:
        self._lines.append(line)
        self._writer.unpark_all()

    def close(self, last_line: str | None = None, *, discard: bool = False) -> None:
        """No more lines. ``discard`` drops what is queued; ``last_line`` goes last.
        Only the first call counts."""
        if self._closed:
            return
        self._closed = True
        if discard:
            self._lines.clear()
        if last_line is not None:
            self._lines.append(last_line)
        self._writer.unpark_all()
        self._room.unpark_all()

    async def write_to(self, transport: Transport) -> None:
        """Write lines until the outbox is closed and empty. Raises ConnectionLost."""
        lines = self._lines
        while True:
            if not lines:
                if self._closed:
                    return
                await self._writer.park()
                continue
            batch = [lines.popleft() for _ in range(min(len(lines), MAX_BATCH))]
            self._room.unpark_all()
            await transport.send_lines(batch)
