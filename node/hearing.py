"""Does this node still hear the cluster? It publishes probes to its own channel and
notes when they come back through its subscription.

A Redis restart or a network cut can leave the subscriber unsubscribed for a while
(glide resubscribes in the background, seconds later) while commands already work
again; a node in that state would accept messages it can no longer deliver to its
own users. `/healthz` reports it, so load balancers steer clients elsewhere.

glide resubscribes on its own and tells nobody; a probe that went unheard until the
next was sent, then one heard, is how a node sees its subscription come back
(``recoveries``, exported as ``chat_pubsub_reconnects_total``).
"""

import math
import secrets

import trio

from node import envelope
from node.cluster import Cluster


class Hearing:
    """Probes on every channel this node must hear through a connection of its own:
    its node channel, and on a Redis Cluster the broadcast channel too (another shard,
    so another subscription that can be lost on its own). Heard means heard on all."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.recoveries = 0
        self._heard_on: dict[str, float] = {}  # channel -> when a probe last came back
        self._channels: tuple[str, ...] = ()
        self._unheard = 0  # probe rounds sent since one last came back on every channel
        self._changed = trio.Event()

    @property
    def last_heard(self) -> float:
        """When the channel heard least recently last heard a probe (-inf: not yet)."""
        if not self._channels:
            return -math.inf
        return min(self._heard_on.get(channel, -math.inf) for channel in self._channels)

    def heard(self, now: float, channel: str = "") -> None:
        """The relay saw one of our probes come back on ``channel``."""
        before = self.last_heard
        self._heard_on[channel] = now
        if self.last_heard == before:  # another channel still waits for its probe
            return
        if self._unheard > 1 and before > -math.inf:  # not the start-up probes
            self.recoveries += 1
        self._unheard = 0
        self._changed.set()
        self._changed = trio.Event()

    def sent(self, channels: tuple[str, ...] = ("",)) -> None:
        """A probe round is going out on ``channels`` (counted before publishing: a
        failed publish is unheard)."""
        self._channels = channels
        self._unheard += 1

    async def probe(self, cluster: Cluster) -> None:
        channels = cluster.probe_channels
        self.sent(channels)
        payload = envelope.encode(envelope.Probe(self.token))
        for channel in channels:
            await cluster.publish(channel, payload)

    async def wait_heard(self) -> None:
        await self._changed.wait()

    def deaf_for(self, now: float) -> float:
        """Seconds since a probe last came back (on the channel heard least recently)."""
        return now - self.last_heard
