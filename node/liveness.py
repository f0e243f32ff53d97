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
from node.services import NodeServices

log = logging.getLogger(__name__)


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
        if await services.cluster.release(claim):
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
    for claim in taken:
        services.local_users.drop(claim.folded)
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
    await cluster.heartbeat(config.heartbeat_ttl)
    services.lease.renew(started)
    task_status.started()
    while True:
        await trio.sleep(config.heartbeat_interval)  # a period, not a synchronisation
        try:
            await liveness_round(services)
        except ClusterUnavailable as exc:
            log.error("heartbeat failed: %s", exc)


async def liveness_round(services: NodeServices) -> None:
    """Heartbeat, re-assert this node's sessions (renewing its lease), then the chores."""
    cluster = services.cluster
    started = trio.current_time()
    if not services.lease.valid(started):
        log.warning("this node's lease lapsed (paused or cut off for longer than the "
                    "heartbeat TTL): its sessions wait until it has re-asserted them")
    await cluster.heartbeat(services.config.heartbeat_ttl)
    await reassert_local_users(services)
    services.lease.renew(started)
    await services.hearing.probe(cluster)
    await _retry_releases(services)
    await reap_silent_nodes(cluster, services.announcer)
