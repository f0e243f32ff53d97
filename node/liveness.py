"""The node's heartbeat, and cleanup after nodes that died without cleaning up.

At start the node reaps whatever a previous run under the same id left behind.
Then every ``heartbeat_interval`` it refreshes its ``alive`` key (TTL
``heartbeat_ttl``), puts its connected users back where Redis lost them (dropping
those whose names someone else holds now) and so renews its lease (``lease``), sends
its self-probe (``hearing``), retries releases that failed while Redis was away, and
reaps nodes whose ``alive`` key has expired, announcing their users' ``leave``.
"""

import logging

import trio

from node.announcer import Announcer
from node.cluster import Cluster, ClusterUnavailable
from node.config import NodeConfig
from node.services import NodeServices

log = logging.getLogger(__name__)

# Between rounds, how often the node checks that Redis still has its heartbeat key.
WATCH_INTERVAL = 0.2


async def _announce_leaves(announcer: Announcer, names: list[str]) -> None:
    for name in names:
        await announcer.leave(name)


async def reap_silent_nodes(cluster: Cluster, announcer: Announcer) -> None:
    for node_id in await cluster.silent_nodes():
        if node_id == cluster.node_id:
            continue
        removed = await cluster.reap_node(node_id)
        log.warning("node %s stopped heartbeating; removed its users %s", node_id, removed)
        await _announce_leaves(announcer, removed)


async def _retry_releases(services: NodeServices) -> None:
    for claim in sorted(services.unreleased, key=lambda claim: claim.folded):
        # Token-checked: if a new session holds the name by now, this releases nothing.
        if await services.cluster.release(claim, services.config.presence_limit):
            await services.announcer.leave(claim.display)
        services.unreleased.discard(claim)


async def reassert_local_users(services: NodeServices) -> None:
    """Heal the registry for users still connected here (see lua/reassert.lua)."""
    local = services.local_users.claims()
    if not local:
        return
    restored, taken = await services.cluster.reassert(local)
    # Drop first: a user who lost the name must not hear the joins announced below.
    if taken:
        log.warning("%d connected users lost their names to claims made elsewhere while "
                    "this node was cut off", len(taken))
    for claim, holder in taken:
        services.local_users.drop(claim.folded)
        if holder != claim.display:  # others listed this spelling: take it off their lists
            await services.announcer.leave(claim.display)
    if restored:
        log.warning("re-registered %d connected users missing from Redis", len(restored))
        for claim in restored:
            await services.announcer.join(claim.display)


async def run_liveness(services: NodeServices, *, task_status: trio.TaskStatus[None]) -> None:
    config, cluster = services.config, services.cluster
    stale = await cluster.reap_node(cluster.node_id, force=True)
    if stale:
        log.warning("removed %d users left by an earlier run of %s", len(stale), cluster.node_id)
        await _announce_leaves(services.announcer, stale)
    started = trio.current_time()
    await cluster.heartbeat(config.heartbeat_ttl, recovery_window(config), running=False)
    services.lease.renew(started)
    task_status.started()
    while True:
        await watch_redis(services, trio.current_time() + config.heartbeat_interval)
        try:
            await liveness_round(services)
        except ClusterUnavailable as exc:
            log.error("heartbeat failed: %s", exc)


def recovery_window(config: NodeConfig) -> float:
    """How long claims wait after Redis lost its data: long enough for every live node to
    notice (``WATCH_INTERVAL``), reconnect and re-assert its users (``redis_timeout``)."""
    return 2 * WATCH_INTERVAL + 2 * config.redis_timeout


async def watch_redis(services: NodeServices, until: float) -> None:
    """Wait until ``until``, but return at once when Redis comes back after failing, or
    when this node's alive key is gone (Redis lost its data, or survivors reaped this
    node): the next round then re-asserts this node's users without waiting."""
    failing = False
    while trio.current_time() < until:
        await trio.sleep_until(min(until, trio.current_time() + WATCH_INTERVAL))  # a period
        try:
            registered = await services.cluster.still_registered()
        except ClusterUnavailable:
            failing = True
            continue
        if failing:
            log.warning("Redis answers again: heartbeat and re-assertion now")
            return
        if not registered:
            log.warning("this node's heartbeat key is gone from Redis: suspending its "
                        "sessions and re-asserting them now")
            services.lease.lapse()
            return


async def liveness_round(services: NodeServices) -> None:
    """Heartbeat, re-assert this node's sessions (renewing its lease), then the chores."""
    cluster, config = services.cluster, services.config
    started = trio.current_time()
    if not services.lease.valid(started):
        log.warning("this node's lease lapsed (paused or cut off for longer than the "
                    "heartbeat TTL, or Redis lost it): its sessions wait until it has "
                    "re-asserted them")
    if await cluster.heartbeat(config.heartbeat_ttl, recovery_window(config), running=True):
        log.warning("Redis lost the registry: new logins wait %g s while every node "
                    "re-asserts its users", recovery_window(config))
    await reassert_local_users(services)
    services.lease.renew(started)
    await services.presence.refresh(cluster)
    await services.hearing.probe(cluster)
    await _retry_releases(services)
    await reap_silent_nodes(cluster, services.announcer)
