"""The node's two listeners: raw TCP lines, and HTTP (hypercorn's protocol on trio)."""

import contextlib
import functools
import logging

import trio
from hypercorn.config import Config as HypercornConfig

from node import accept
from node.connection import serve_client
from node.http_server import serve_asgi
from node.services import NodeServices
from node.transport_tcp import TcpTransport, enable_keepalive
from node.web import make_app

log = logging.getLogger(__name__)

# Frames between the line limit and this cap get `error line_too_long`; bigger
# frames are closed by the WebSocket layer with code 1009 before being buffered.
WS_FRAME_CAP = 64 * 1024


async def serve_tcp_clients(services: NodeServices, *, task_status: trio.TaskStatus[int]) -> None:
    config = services.config

    async def handle(stream: trio.SocketStream) -> None:
        # One connection's failure must end that connection only, never the node.
        try:
            if config.tcp_keepalive:
                with contextlib.suppress(OSError):  # a peer already gone is noticed below
                    enable_keepalive(stream.socket, config.tcp_keepalive)
            transport = TcpTransport(stream, config.max_line_bytes, config.partial_line_timeout)
            await serve_client(transport, services)
        except Exception:
            log.exception("a TCP connection failed; closed it, the node carries on")

    listeners = await trio.open_tcp_listeners(config.tcp_port, host=config.host)
    port = listeners[0].socket.getsockname()[1]
    log.info("TCP clients on %s:%d", config.host, port)
    async with trio.open_nursery() as nursery:
        await nursery.start(accept.serve, handle, listeners)
        task_status.started(port)


def _hypercorn_config(services: NodeServices) -> HypercornConfig:
    config = HypercornConfig()
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.websocket_max_message_size = max(WS_FRAME_CAP, services.config.max_line_bytes * 4)
    config.websocket_ping_interval = 20.0
    return config


async def serve_http(services: NodeServices, *, task_status: trio.TaskStatus[int]) -> None:
    config = services.config
    async with trio.open_nursery() as nursery:
        port = await nursery.start(functools.partial(
            serve_asgi, make_app(services), _hypercorn_config(services),
            config.host, config.http_port))
        log.info("HTTP (/, /ws, /healthz) on %s:%d", config.host, port)
        task_status.started(port)
