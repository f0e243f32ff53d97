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
    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.last_heard = -math.inf
        self.recoveries = 0
        self._unheard = 0  # probes sent since one last came back
        self._changed = trio.Event()

    def heard(self, now: float) -> None:
        """The relay saw one of our probes come back."""
        if self._unheard > 1 and self.last_heard > -math.inf:  # not the start-up probes
            self.recoveries += 1
        self._unheard = 0
        self.last_heard = now
        self._changed.set()
        self._changed = trio.Event()

    def sent(self) -> None:
        """A probe is going out (counted before publishing: a failed publish is unheard)."""
        self._unheard += 1

    async def probe(self, cluster: Cluster) -> None:
        channel = cluster.keys.node_channel(cluster.node_id)
        self.sent()
        await cluster.publish(channel, envelope.encode(envelope.Probe(self.token)))

    async def wait_heard(self) -> None:
        await self._changed.wait()

    def deaf_for(self, now: float) -> float:
        """Seconds since a probe last came back."""
        return now - self.last_heard
