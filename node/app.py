"""A whole node: connect to Redis, start services in dependency order, stop cleanly.

Ready (``task_status.started``) only when the subscription has been proven to
hear messages, the heartbeat is set and both listeners are bound. Any node
service that dies takes the node down: better than a node that serves while deaf.
On ``stop`` the node marks itself stopping, closes every connection, releases
all of its users in one atomic step and announces them in one ``leave``.
"""

import logging
from dataclasses import dataclass

import trio

from node import envelope
from node.announcer import Announcer
from node.cluster import ClusterUnavailable, open_cluster
from node.config import NodeConfig, connection_limit, parse_redis_url
from node.http_server import serve_http
from node.keys import Keys
from node.lease import Lease
from node.limits import open_files_limit
from node.liveness import run_liveness
from node.local_users import LocalUsers
from node.metrics import Metrics
from node.open_connections import OpenConnections
from node.presence import Presence
from node.protocol import ByeReason
from node.relay import run_relay
from node.servers import serve_tcp_clients
from node.services import NodeServices

log = logging.getLogger(__name__)

# How long a stopping node waits for its clients to take their `bye shutdown`.
SHUTDOWN_FLUSH_SECONDS = 2.0


@dataclass(frozen=True)
class NodeAddresses:
    node_id: str
    tcp_port: int
    http_port: int


async def run_node(config: NodeConfig, stop: trio.Event | None = None, *,
                   task_status: trio.TaskStatus[NodeAddresses] = trio.TASK_STATUS_IGNORED
                   ) -> None:
    stop = trio.Event() if stop is None else stop
    keys = Keys(config.key_prefix, cluster=config.redis_cluster)
    target = parse_redis_url(config.redis_url)
    metrics = Metrics()
    async with open_cluster(target, keys, config.node_id, config.redis_timeout,
                            cluster_mode=config.redis_cluster,
                            on_batch=metrics.redis_command_seconds.observe) as (cluster, sub):
        limit = connection_limit(config.max_connections, open_files_limit())
        local_users = LocalUsers()
        presence = Presence(config.presence_limit, local_users)
        presence.listed = await cluster.presence_listed()
        services = NodeServices(config, cluster, Announcer(cluster),
                                OpenConnections(limit), Lease(config.heartbeat_ttl), presence,
                                local_users, metrics=metrics)
        services.metrics.watch(services)
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(services.flusher.run)
                await nursery.start(metrics.keep_history)
                await nursery.start(services.announcer.run)
                await nursery.start(run_relay, sub, cluster, services.local_users,
                                    services.hearing, services.presence, metrics)
                await nursery.start(run_liveness, services)
                tcp_port = await nursery.start(serve_tcp_clients, services)
                http_port = await nursery.start(serve_http, services)
                services.ready = True
                log.info("node %s ready: tcp %d, http %d", config.node_id, tcp_port, http_port)
                task_status.started(NodeAddresses(config.node_id, tcp_port, http_port))
                await stop.wait()
                services.draining = True
                if config.drain_seconds:
                    log.info("draining for %g s before closing", config.drain_seconds)
                    await trio.sleep(config.drain_seconds)  # a grace period, by design
                services.stopping = True
                await _say_goodbye(services.connections)
                nursery.cancel_scope.cancel()
        finally:
            await _release_everyone(services)


async def _say_goodbye(connections: OpenConnections) -> None:
    """Every client gets ``bye shutdown``; those that read it in time close cleanly."""
    connections.drop_all(ByeReason.SHUTDOWN)
    with trio.move_on_after(SHUTDOWN_FLUSH_SECONDS):
        await connections.wait_empty()


async def _release_everyone(services: NodeServices) -> None:
    """Remove this node and all its users from Redis; one ``leave`` for them all."""
    cluster = services.cluster
    with trio.CancelScope(shield=True), trio.move_on_after(services.config.redis_timeout * 2):
        try:
            names = await cluster.reap_node(cluster.node_id, force=True)
            if names:
                await cluster.publish(cluster.keys.broadcast_channel,
                                      envelope.encode(envelope.Presence("leave", tuple(names))))
            await cluster.check_presence(services.config.presence_limit)
            log.info("node %s deregistered; released %d users", cluster.node_id, len(names))
        except ClusterUnavailable as exc:
            log.error("could not deregister node %s: %s", cluster.node_id, exc)
