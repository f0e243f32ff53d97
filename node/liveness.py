"""The node's heartbeat, and cleanup after nodes that died without cleaning up.

At start the node reaps whatever a previous run under the same id left behind.
Then every ``heartbeat_interval`` it refreshes its ``alive`` key (TTL
``heartbeat_ttl``), sends its self-probe (``hearing``), puts its connected users
back where Redis lost them, retries releases that failed while Redis was away, and
reaps nodes whose ``alive`` key has expired, announcing their users' ``leave``.
"""

import logging

import trio

from node.announcer import Announcer
from node.cluster import Cluster, ClusterUnavailable
from node.names import fold_name
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
    for folded, name in sorted(services.unreleased):
        # A new session on this node may hold the name again by now: keep it.
        if not services.local_users.holds(folded) and \
                await services.cluster.release(folded, name):
            await services.announcer.leave(name)
        services.unreleased.discard((folded, name))


async def reassert_local_users(services: NodeServices) -> None:
    """Heal the registry for users still connected here (see lua/reassert.lua)."""
    local = services.local_users.entries()
    if not local:
        return
    restored, taken = await services.cluster.reassert(local)
    # Drop first: a user who lost the name must not hear the joins announced below.
    if taken:
        log.warning("%d connected users lost their names to claims made elsewhere while "
                    "this node was cut off", len(taken))
    for name in taken:
        services.local_users.drop(fold_name(name))
    if restored:
        log.warning("re-registered %d connected users missing from Redis", len(restored))
        for name in restored:
            await services.announcer.join(name)


async def run_liveness(services: NodeServices, *, task_status: trio.TaskStatus[None]) -> None:
    config, cluster = services.config, services.cluster
    stale = await cluster.reap_node(cluster.node_id, force=True)
    if stale:
        log.warning("removed %d users left by an earlier run of %s", len(stale), cluster.node_id)
        await _announce_leaves(services.announcer, stale)
    await cluster.heartbeat(config.heartbeat_ttl)
    task_status.started()
    while True:
        await trio.sleep(config.heartbeat_interval)  # a period, not a synchronisation
        try:
            await cluster.heartbeat(config.heartbeat_ttl)
            await services.hearing.probe(cluster)
            await reassert_local_users(services)
            await _retry_releases(services)
            await reap_silent_nodes(cluster, services.announcer)
        except ClusterUnavailable as exc:
            log.error("heartbeat failed: %s", exc)
