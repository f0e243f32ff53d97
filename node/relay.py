"""Turns envelopes from Redis pub/sub into lines for this node's users.

Started with ``nursery.start``: it reports ready only after a probe it
published to its own channel has come back, so a ready node is known to hear
the cluster.
"""

import logging
import math

import trio

from node import envelope, protocol
from node.cluster import Cluster, ClusterUnavailable, Subscription
from node.hearing import Hearing
from node.local_users import LocalUsers
from node.names import fold_name
from node.presence import Presence

log = logging.getLogger(__name__)


def deliver(item: envelope.Envelope, local_users: LocalUsers, presence: Presence) -> None:
    """Hand one envelope to the local users it concerns (presence only while listed)."""
    if isinstance(item, envelope.Broadcast):
        local_users.broadcast(protocol.event_line("msgall", item.sender, item.text))
    elif isinstance(item, envelope.Direct):
        local_users.deliver(item.target_folded, protocol.event_line("msg", item.sender, item.text))
    elif isinstance(item, envelope.Presence) and item.names and presence.listed:
        _deliver_presence(item.kind, item.names, local_users)


def _deliver_presence(kind: str, names: tuple[str, ...], local_users: LocalUsers) -> None:
    """Nobody is told of their own join or leave (a node waking from a pause hears the
    survivors' `leave` of users it still serves); those named together are told of
    each other (the earlier ones' `users` lines could not list the later)."""
    folded = [fold_name(name) for name in names]
    local_users.broadcast(protocol.event_line(kind, *names), frozenset(folded))
    for own in folded:
        others = [name for name, key in zip(names, folded, strict=True) if key != own]
        if others:
            local_users.deliver(own, protocol.event_line(kind, *others))


async def _read_forever(subscription: Subscription, cluster: Cluster,
                        local_users: LocalUsers, hearing: Hearing, presence: Presence) -> None:
    while True:
        for channel, payload in await subscription.next_messages():
            item = envelope.decode(payload)
            if item is None:
                log.warning("ignoring unreadable message on %s: %r", channel, payload[:200])
            elif isinstance(item, envelope.Probe):
                if item.token == hearing.token:
                    hearing.heard(trio.current_time())
            elif isinstance(item, envelope.PresenceMode):
                await presence.switch(item.mode, item.online, cluster)
            else:
                deliver(item, local_users, presence)


async def run_relay(subscription: Subscription, cluster: Cluster, local_users: LocalUsers,
                    hearing: Hearing, presence: Presence, *,
                    task_status: trio.TaskStatus[None]) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_forever, subscription, cluster, local_users, hearing, presence)
        # The subscriber may still be subscribing in the background: probe until heard.
        with trio.move_on_after(30):
            while hearing.last_heard == -math.inf:
                await hearing.probe(cluster)
                with trio.move_on_after(0.2):
                    await hearing.wait_heard()
        if hearing.last_heard == -math.inf:
            raise ClusterUnavailable("the pub/sub subscription was not confirmed within 30 s")
        task_status.started()
