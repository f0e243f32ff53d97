"""The node's HTTP port, as a small ASGI app: ``/ws`` (WebSocket) and ``/healthz``."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from node.cluster import ClusterUnavailable
from node.connection import Connection
from node.services import NodeServices
from node.transport_ws import WebSocketTransport

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _respond(send: Send, status: int, body: str) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                    (b"cache-control", b"no-store")],
    })
    await send({"type": "http.response.body", "body": body.encode()})


async def health(services: NodeServices) -> tuple[int, str]:
    """200 once listeners are up and Redis answers; 503 with the reason otherwise."""
    if not services.ready:
        return 503, "starting\n"
    if services.stopping:
        return 503, "stopping\n"
    try:
        with trio.fail_after(1):
            await services.cluster.ping()
    except (ClusterUnavailable, trio.TooSlowError):
        return 503, "redis unreachable\n"
    return 200, f"ok {services.cluster.node_id} users={len(services.local_users)}\n"


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_app(services: NodeServices) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind, path = scope["type"], scope.get("path", "")
        if kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            if (await receive())["type"] != "websocket.connect":
                return
            if path != "/ws":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send({"type": "websocket.accept"})
            transport = WebSocketTransport(scope, receive, send, services.config.max_line_bytes)
            await Connection(transport, services).run()
        elif path == "/healthz" and scope["method"] in ("GET", "HEAD"):
            await _respond(send, *await health(services))
        else:
            await _respond(send, 404, "not found; the chat is at /ws (WebSocket)\n")

    return app
