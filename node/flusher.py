"""Hands the lines queued for clients to their sockets, in rounds.

A fan-out only queues bytes and marks the outbox; one task per node then writes each
marked outbox's lines in one system call. Under load, rounds are at least
``min_gap`` apart, so the lines of several messages that arrive close together go out
in one write per client; when the node is idle a round follows at once (after the
current burst of work), so a lone message is not delayed.
"""

import math
from typing import Protocol

import trio


class Flushable(Protocol):
    def flush(self) -> None: ...


class Flusher:
    def __init__(self, min_gap: float = 0.001) -> None:
        self._min_gap = min_gap
        self._dirty: list[Flushable] = []
        self._wake = trio.Event()

    def mark(self, outbox: Flushable) -> None:
        """``outbox`` has lines to send (each outbox marks itself once per round)."""
        self._dirty.append(outbox)
        if len(self._dirty) == 1:
            self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        task_status.started()
        last_round = -math.inf
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            next_round = last_round + self._min_gap
            if trio.current_time() < next_round:
                await trio.sleep_until(next_round)  # coalescing under load, by design
            else:
                await trio.lowlevel.checkpoint()  # let the current burst queue its lines
            dirty, self._dirty = self._dirty, []
            for outbox in dirty:
                outbox.flush()
            last_round = trio.current_time()
