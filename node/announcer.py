"""Publishes this node's join and leave announcements, coalescing bursts.

One task owns publishing, so announcements go out in the order they were made;
whatever queued up while a publish was in flight is merged (``batcher``) into
one envelope per run of joins or leaves.
"""

import logging

import trio

from node import envelope
from node.batcher import coalesce
from node.cluster import Cluster, ClusterUnavailable

log = logging.getLogger(__name__)

MAX_BATCH = 1000
_Item = tuple[str, str, trio.Event | None]


class Announcer:
    def __init__(self, cluster: Cluster, capacity: int = 10_000) -> None:
        self._cluster = cluster
        self._send, self._receive = trio.open_memory_channel[_Item](capacity)
        self.running = False

    async def join(self, name: str) -> None:
        """Announce ``name`` and return once the announcement has been published."""
        published = trio.Event()
        await self._send.send(("join", name, published))
        await published.wait()

    async def leave(self, name: str) -> None:
        """Queue a leave; if the announcer has stopped (node failing), publish it now."""
        if self.running:
            await self._send.send(("leave", name, None))
        else:
            await self._publish([("leave", name, None)])

    async def run(self, *, task_status: trio.TaskStatus[None]) -> None:
        self.running = True
        task_status.started()
        try:
            async for first in self._receive:
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._receive.receive_nowait())
                    except trio.WouldBlock:
                        break
                await self._publish(batch)
        finally:
            self.running = False

    async def _publish(self, batch: list[_Item]) -> None:
        cluster = self._cluster
        for presence in coalesce([(kind, name) for kind, name, _ in batch]):
            try:
                await cluster.publish(cluster.keys.broadcast_channel, envelope.encode(presence))
            except ClusterUnavailable as exc:
                log.error("could not announce %s %s: %s", presence.kind, presence.names, exc)
        for _, _, published in batch:
            if published is not None:
                published.set()
