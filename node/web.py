"""The node's HTTP port, as a small ASGI app: the page at ``/``, ``/ws`` (WebSocket)
and ``/healthz``."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from node.cluster import ClusterUnavailable
from node.connection import serve_client
from node.services import NodeServices
from node.static import SECURITY_HEADERS, page_files
from node.transport_ws import WebSocketTransport

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _respond(send: Send, status: int, body: str | bytes,
                   content_type: str = "text/plain; charset=utf-8",
                   extra_headers: list[tuple[bytes, bytes]] | None = None,
                   head_only: bool = False) -> None:
    data = body.encode() if isinstance(body, str) else body
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type.encode()),
                    (b"content-length", str(len(data)).encode()),
                    (b"cache-control", b"no-cache"),
                    *(extra_headers or [])],
    })
    await send({"type": "http.response.body", "body": b"" if head_only else data})


async def health(services: NodeServices) -> tuple[int, str]:
    """200 once listeners are up and Redis answers; 503 with the reason otherwise."""
    if not services.ready:
        return 503, "starting\n"
    if services.draining or services.stopping:
        return 503, "stopping\n"
    if services.connections.full:  # new clients would get `bye server_full`: send them on
        return 503, f"full ({len(services.connections)} connections)\n"
    try:
        with trio.fail_after(1):
            await services.cluster.ping()
    except (ClusterUnavailable, trio.TooSlowError):
        return 503, "redis unreachable\n"
    config = services.config
    # Probes go out every heartbeat; two missed rounds (plus a slow Redis) mean deaf.
    deaf = services.hearing.deaf_for(trio.current_time())
    if deaf > 2 * config.heartbeat_interval + config.redis_timeout:
        return 503, f"not hearing the cluster for {deaf:.0f} s\n"
    return 200, f"ok {services.cluster.node_id} users={len(services.local_users)}\n"


def make_app(services: NodeServices) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind, path = scope["type"], scope.get("path", "")
        if kind == "websocket":
            if (await receive())["type"] != "websocket.connect":
                return
            if path != "/ws":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "websocket.accept"})
            transport = WebSocketTransport(scope, receive, send, services.config.max_line_bytes)
            await serve_client(transport, services)
        elif scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, "only GET and HEAD\n",
                           extra_headers=[(b"allow", b"GET, HEAD")])
        elif path == "/healthz":
            await _respond(send, *await health(services), head_only=scope["method"] == "HEAD")
        elif path in page_files():
            content_type, body = page_files()[path]
            await _respond(send, 200, body, content_type, SECURITY_HEADERS,
                           head_only=scope["method"] == "HEAD")
        else:
            await _respond(send, 404, "not found; the chat page is at /, WebSocket at /ws\n")

    return app
