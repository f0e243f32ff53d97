"""Turns envelopes from Redis pub/sub into lines for this node's users.

Started with ``nursery.start``: it reports ready only after a probe it
published to its own channel has come back, so a ready node is known to hear
the cluster.
"""

import logging
import math

import trio

from node import envelope, protocol
from node.batcher import coalesce
from node.cluster import Cluster, ClusterUnavailable, Subscription
from node.hearing import Hearing
from node.local_users import LocalUsers
from node.metrics import BROADCAST, DIRECT, PRESENCE, Metrics
from node.names import fold_name
from node.presence import Presence

log = logging.getLogger(__name__)


# Joins and leaves that arrive within this long of the last ones sent are held and sent
# together, one line per recipient: a login storm costs a line per user per tick, not
# per login. A lone join or leave goes out at once.
PRESENCE_TICK = 0.05


class PresenceBuffer:
    """Presence announcements waiting to be merged. Anything else the relay delivers
    flushes them first, so every user still sees events in the order of the channel."""

    def __init__(self, local_users: LocalUsers, presence: Presence, metrics: Metrics,
                 tick: float = PRESENCE_TICK) -> None:
        self._local_users = local_users
        self._presence = presence
        self._metrics = metrics
        self._tick = tick
        self._held: list[tuple[str, str]] = []
        self._last_flush = -math.inf
        self._wake = trio.Event()

    def add(self, item: envelope.Presence) -> None:
        if not self._held:
            if trio.current_time() >= self._last_flush + self._tick:
                self._held.extend((item.kind, name) for name in item.names)
                self.flush()  # quiet until now: no reason to wait
                return
            self._wake.set()
        self._held.extend((item.kind, name) for name in item.names)

    def flush(self) -> None:
        held, self._held = self._held, []
        if not held:
            return
        self._last_flush = trio.current_time()
        if not self._presence.listed:
            return
        for run in coalesce(held):
            _deliver_presence(run.kind, run.names, self._local_users, self._metrics)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = trio.Event()
            await trio.sleep_until(self._last_flush + self._tick)  # merging a burst
            self.flush()


def deliver(item: envelope.Envelope, local_users: LocalUsers, held: PresenceBuffer,
            metrics: Metrics) -> None:
    """Hand one envelope to the local users it concerns (presence only while listed)."""
    if isinstance(item, envelope.Presence):
        if item.names:
            held.add(item)
        return
    held.flush()
    if isinstance(item, envelope.Broadcast):
        offered = local_users.broadcast(protocol.event_line("msgall", item.sender, item.text))
        metrics.delivered(BROADCAST, offered, item.sent)
    elif isinstance(item, envelope.Direct):
        found = local_users.deliver(item.target_folded,
                                    protocol.event_line("msg", item.sender, item.text))
        metrics.delivered(DIRECT, int(found), item.sent)


def _deliver_presence(kind: str, names: tuple[str, ...], local_users: LocalUsers,
                      metrics: Metrics) -> None:
    """Nobody is told of their own join or leave (a node waking from a pause hears the
    survivors' `leave` of users it still serves); those named together are told of
    each other (the earlier ones' `users` lines could not list the later)."""
    folded = [fold_name(name) for name in names]
    offered = local_users.broadcast(protocol.event_line(kind, *names), frozenset(folded))
    for own in folded:
        others = [name for name, key in zip(names, folded, strict=True) if key != own]
        if others:
            offered += local_users.deliver(own, protocol.event_line(kind, *others))
    metrics.delivered(PRESENCE, offered)


async def _read_forever(subscription: Subscription, cluster: Cluster,
                        local_users: LocalUsers, hearing: Hearing, presence: Presence,
                        held: PresenceBuffer, metrics: Metrics) -> None:
    while True:
        for channel, payload in await subscription.next_messages():
            item = envelope.decode(payload)
            if item is None:
                log.warning("ignoring unreadable message on %s: %r", channel, payload[:200])
            elif isinstance(item, envelope.Probe):
                if item.token == hearing.token:
                    hearing.heard(trio.current_time(), channel)
            elif isinstance(item, envelope.PresenceMode):
                held.flush()
                await presence.switch(item.mode, item.online, cluster)
            else:
                deliver(item, local_users, held, metrics)


async def run_relay(subscription: Subscription, cluster: Cluster, local_users: LocalUsers,
                    hearing: Hearing, presence: Presence, metrics: Metrics, *,
                    task_status: trio.TaskStatus[None]) -> None:
    async with trio.open_nursery() as nursery:
        held = PresenceBuffer(local_users, presence, metrics)
        nursery.start_soon(held.run)
        nursery.start_soon(_read_forever, subscription, cluster, local_users, hearing, presence,
                           held, metrics)
        # The subscriber may still be subscribing in the background: probe until heard.
        with trio.move_on_after(30):
            while hearing.last_heard == -math.inf:
                await hearing.probe(cluster)
                with trio.move_on_after(0.2):
                    await hearing.wait_heard()
        if hearing.last_heard == -math.inf:
            raise ClusterUnavailable("the pub/sub subscription was not confirmed within 30 s")
        task_status.started()
