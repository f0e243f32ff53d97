"""Serve the ASGI app with hypercorn's trio connection handler, guarded.

hypercorn 0.18's ``trio.serve`` runs every HTTP connection in one shared nursery,
so an exception escaping a single connection stops the whole server (and with it
the node). One such exception is reachable by any client: a WebSocket closed by
the client while the server is closing it too makes hypercorn's ``send_eof``
(not under its send lock) collide with the close reply's ``send_all``, raising
``trio.BusyResourceError``. So we bind the listener ourselves and run each
connection through ``_GuardedTCPServer``, which treats that collision as the
connection closing and contains any other per-connection failure to that
connection (logged). Only hypercorn's connection-level classes are used.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import wrap_app

log = logging.getLogger(__name__)

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class _GuardedTCPServer(TCPServer):
    async def protocol_send(self, event: Event) -> None:
        try:
            await super().protocol_send(event)
        except trio.BusyResourceError:
            # A concurrent close owns the socket: this connection is closing anyway.
            await self.protocol.handle(Closed())

    async def run(self) -> None:
        try:
            await super().run()
        except Exception:
            log.exception("an HTTP connection failed; closed it, the node carries on")


async def serve_asgi(app: App, config: Config, host: str, port: int,
                     *, task_status: trio.TaskStatus[int]) -> None:
    """Listen on ``host:port`` (0 picks a port), report the bound port, serve forever."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    handler = functools.partial(_GuardedTCPServer, wrap_app(cast(Any, app), 0, "asgi"), config,
                                WorkerContext(None), ConnectionState({}))
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, handler, listeners)
        task_status.started(bound)
