"""The node's TCP listener for line clients. (The HTTP port is ``http_server``.)"""

import contextlib
import logging

import trio

from node import accept
from node.client_socket import ClientSocket
from node.connection import serve_client
from node.services import NodeServices
from node.transport_tcp import TcpTransport, enable_keepalive

log = logging.getLogger(__name__)


async def serve_tcp_clients(services: NodeServices, *, task_status: trio.TaskStatus[int]) -> None:
    config = services.config

    async def handle(stream: trio.SocketStream) -> None:
        # One connection's failure must end that connection only, never the node.
        try:
            sock = ClientSocket(stream)
            if config.tcp_keepalive:
                with contextlib.suppress(OSError):  # a peer already gone is noticed below
                    enable_keepalive(sock.raw, config.tcp_keepalive)
            transport = TcpTransport(sock, config.max_line_bytes, config.partial_line_timeout)
            await serve_client(transport, services)
        except Exception:
            log.exception("a TCP connection failed; closed it, the node carries on")

    listeners = await trio.open_tcp_listeners(config.tcp_port, host=config.host)
    port = listeners[0].socket.getsockname()[1]
    log.info("TCP clients on %s:%d", config.host, port)
    async with trio.open_nursery() as nursery:
        await nursery.start(accept.serve, handle, listeners)
        task_status.started(port)
