"""What the node answers on its HTTP port to plain requests: the page at ``/``, the
status page at ``/status`` and its ``/status.json``, ``/healthz``, ``/metrics``
(Prometheus), 405 and 404. (``/ws`` upgrades are decided in ``ws_handshake``.)"""

import json
import time
from dataclasses import dataclass

import trio

from node.cluster import ClusterUnavailable
from node.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from node.services import NodeServices
from node.static import SECURITY_HEADERS, page_files
from node.status import StatusInputs, build_status
from node.ws_handshake import WS_PATH

HEALTH_PING_SECONDS = 1.0


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _text(status: int, body: str, *headers: tuple[bytes, bytes]) -> Response:
    return Response(status, body.encode(), headers=headers)


async def health(services: NodeServices) -> tuple[int, str]:
    """200 once listeners are up and Redis answers; 503 with the reason otherwise."""
    if not services.ready:
        return 503, "starting\n"
    if services.draining or services.stopping:
        return 503, "stopping\n"
    if services.connections.full:  # new clients would get `bye server_full`: send them on
        return 503, f"full ({len(services.connections)} connections)\n"
    try:
        with trio.fail_after(HEALTH_PING_SECONDS):
            await services.cluster.ping()
    except (ClusterUnavailable, trio.TooSlowError):
        return 503, "redis unreachable\n"
    config = services.config
    # Probes go out every heartbeat; two missed rounds (plus a slow Redis) mean deaf.
    deaf = services.hearing.deaf_for(trio.current_time())
    if deaf > 2 * config.heartbeat_interval + config.redis_timeout:
        return 503, f"not hearing the cluster for {deaf:.0f} s\n"
    return 200, f"ok {services.cluster.node_id} users={len(services.local_users)}\n"


async def status(services: NodeServices) -> bytes:
    """The status page's document: what this node knows, and the cluster's nodes as
    Redis has them (``nodes`` is null if Redis does not answer)."""
    config, cluster, metrics = services.config, services.cluster, services.metrics
    started = trio.current_time()
    try:
        nodes, took = await cluster.nodes_overview(), trio.current_time() - started
    except ClusterUnavailable:
        nodes, took = None, None
    inputs = StatusInputs(
        node_id=cluster.node_id, now=time.time(), heartbeat_interval=config.heartbeat_interval,
        heartbeat_ttl=config.heartbeat_ttl, connections=metrics.connections_by_transport(),
        users=len(services.local_users), nodes=nodes, query_seconds=took)
    document = build_status(inputs, metrics.history, metrics.recent_drops)
    return json.dumps(document, separators=(",", ":")).encode()


async def respond(method: str, path: str, services: NodeServices) -> Response:
    """The answer to a plain (not upgrading) request."""
    if method not in ("GET", "HEAD"):
        return _text(405, "only GET and HEAD\n", (b"allow", b"GET, HEAD"))
    if path == "/healthz":
        return _text(*await health(services))
    if path == "/metrics":
        return Response(200, services.metrics.exposition(), METRICS_CONTENT_TYPE)
    if path == "/status.json":
        return Response(200, await status(services), "application/json",
                        tuple(SECURITY_HEADERS))
    if path in page_files():
        content_type, body = page_files()[path]
        return Response(200, body, content_type, tuple(SECURITY_HEADERS))
    if path == WS_PATH:
        return _text(426, "this is the WebSocket endpoint; connect with a WebSocket client\n",
                     (b"upgrade", b"websocket"), (b"connection", b"Upgrade"))
    return _text(404, f"not found; the chat page is at /, WebSocket at {WS_PATH}\n")
