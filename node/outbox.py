"""A client's bounded send queue and the single task that writes it to the socket.

The client's own replies ``put`` (waiting for room: backpressure on that client
alone); everyone else's events ``offer`` without waiting, and a full outbox
means the client is too slow: the caller disconnects it. The writer takes
everything queued at once and sends it in one call.
"""

import trio

from node.transport import Transport

MAX_BATCH = 256


class Outbox:
    def __init__(self, capacity: int) -> None:
        self._send, self._receive = trio.open_memory_channel[str](capacity)

    async def put(self, line: str) -> None:
        """Queue one of the client's own reply lines, waiting for room."""
        await self._send.send(line)

    def offer(self, line: str) -> bool:
        """Queue an event without waiting; False if the outbox is full or closed."""
        try:
            self._send.send_nowait(line)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return False
        return True

    def close(self) -> None:
        """No more lines; the writer ends once it has sent what is queued."""
        self._send.close()

    async def write_to(self, transport: Transport) -> None:
        """Write lines until the outbox is closed and empty. Raises ConnectionLost."""
        async for first in self._receive:
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._receive.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            await transport.send_lines(batch)
