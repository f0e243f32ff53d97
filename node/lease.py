"""This node's lease on its users' names: until when Redis is known to keep them.

Each liveness round sets the node's alive key with a TTL (``heartbeat_ttl``) and then
re-asserts its users. Until that TTL runs out no survivor may reap them. Past it (the
node was paused, or cut off from Redis) they may have been reaped and even claimed by
someone else, so the node's sessions are suspended: their cluster commands wait until
the next round has re-asserted them and dropped those whose names are gone. Redis
fences each message too (claim tokens); the lease spares the fence that work.
"""

import math

import trio


class Lease:
    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._until = -math.inf
        self._renewed = trio.Event()

    def renew(self, since: float) -> None:
        """A liveness round that began at ``since`` (before its heartbeat went out) has
        set the heartbeat and re-asserted every session."""
        self._until = since + self._ttl
        self._renewed.set()
        self._renewed = trio.Event()

    def lapse(self) -> None:
        """The registry lost this node's names (Redis restarted empty): suspend."""
        self._until = -math.inf

    def valid(self, now: float) -> bool:
        return now < self._until

    async def wait_valid(self) -> None:
        while not self.valid(trio.current_time()):
            await self._renewed.wait()
