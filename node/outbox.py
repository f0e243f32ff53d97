"""A client's bounded queue of lines, and how they reach its socket.

Lines arrive already encoded for the client's transport (a broadcast's bytes are
prepared once for all its recipients). The node's ``Flusher`` hands each marked
outbox's lines to the socket in one write per round; whatever the kernel does not take
waits in the socket, and a writer task (``drain_out``), started only then, drains it. The
capacity counts lines not yet handed to the socket: the client's own replies ``put``
(waiting for room: backpressure on that client alone); everyone else's events
``offer`` without waiting, and a full outbox means the client is too slow: the caller
disconnects it. ``close`` ends the queue, optionally with one last line (``bye
<reason>``) after what is queued or instead of it.
"""

from collections.abc import Callable

from trio.lowlevel import ParkingLot

from node.client_socket import ClientSocket
from node.flusher import Flusher
from node.transport import ConnectionLost


class Outbox:
    __slots__ = ("_socket", "_capacity", "_flusher", "_backed_up", "_queued", "_closed",
                 "_lost", "_room")

    def __init__(self, sock: ClientSocket, capacity: int, flusher: Flusher,
                 backed_up: Callable[[], None]) -> None:
        self._socket = sock
        self._capacity = capacity
        self._flusher = flusher
        self._backed_up = backed_up  # the socket is full: start draining it (a writer)
        self._queued: list[bytes] = []
        self._closed = False
        self._lost: ConnectionLost | None = None
        self._room: ParkingLot | None = None  # `put` waits here for room (made if needed)

    def __len__(self) -> int:
        return len(self._queued)

    @property
    def closed(self) -> bool:
        return self._closed

    async def put(self, data: bytes) -> None:
        """Queue one of the client's own reply lines, waiting for room. After ``close``
        the line is dropped: the connection is ending. (It waits for the Flusher's round
        like a broadcast: sent at once, `ok msgall` let a client log out before its own
        `msgall` came back through Redis more often than before.)"""
        while len(self._queued) >= self._capacity and not self._closed:
            if self._room is None:
                self._room = ParkingLot()
            await self._room.park()
        if not self._closed:
            self._queue(data)

    def offer(self, data: bytes, *, now: bool = False) -> bool:
        """Queue an event without waiting; False if the outbox is full. After ``close``
        the line is dropped and True returned: the connection is ending anyway.
        ``now``: a line for this client alone goes to the socket at once when nothing
        is waiting before it (a broadcast's lines wait for the Flusher's round)."""
        if self._closed:
            return True
        if len(self._queued) >= self._capacity:
            return False
        self._queue(data, now=now)
        return True

    def _queue(self, data: bytes, *, now: bool = False) -> None:
        if not self._queued and not self._socket.blocked:
            if now and not self._lost:
                # Nothing queued before it: straight to the socket, sparing a Flusher
                # round (a task switch) for the one line.
                self._queued.append(data)
                self.flush()
                return
            self._flusher.mark(self)
        self._queued.append(data)

    def close(self, last_line: bytes | None = None, *, discard: bool = False) -> None:
        """No more lines. ``discard`` drops what is queued; ``last_line`` goes last.
        Only the first call counts. The writer sends what is left, then returns."""
        if self._closed:
            return
        self._closed = True
        if discard:
            self._queued.clear()
        if last_line is not None:
            self._queue(last_line)
        self._wake_room()

    def flush(self) -> None:
        """Hand everything queued to the socket in one write (the Flusher calls this).
        While the socket is still full the writer task does it once it has drained."""
        if not self._queued or self._socket.blocked or self._lost:
            return
        queued = self._queued
        data = queued[0] if len(queued) == 1 else b"".join(queued)
        self._queued = []
        self._wake_room()
        try:
            self._socket.write(data)
        except ConnectionLost as exc:
            self._lost = exc
        if self._socket.blocked or self._lost:
            self._backed_up()

    def _wake_room(self) -> None:
        if self._room is not None:
            self._room.unpark_all()

    async def drain_out(self) -> None:
        """Drain the socket and hand it what queued up meanwhile, until both are empty.
        Run by a writer task while the socket is backed up, and at the end of the
        connection. Raises ConnectionLost."""
        while True:
            if self._lost is not None:
                raise self._lost
            if self._socket.blocked:
                await self._socket.drain()
            elif self._queued:
                self.flush()
            else:
                return
