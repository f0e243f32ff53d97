"""Accepting connections, surviving descriptor exhaustion.

trio's ``serve_listeners`` retries a failed ``accept`` every 0.1 s and logs a
traceback each time: under EMFILE that is ten tracebacks a second, for as long as
the node is out of descriptors. Here the loop backs off (doubling up to a second)
and logs one warning per interval, with how many attempts failed meanwhile.
"""

import errno
import logging
from collections.abc import Awaitable, Callable

import trio

from node.throttle import Throttle

log = logging.getLogger(__name__)

# Errors that mean "out of resources right now", not "this listener is broken".
CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
FIRST_BACKOFF = 0.05
MAX_BACKOFF = 1.0
WARN_EVERY = 10.0

Handler = Callable[[trio.SocketStream], Awaitable[None]]


async def serve(handler: Handler, listeners: list[trio.SocketListener], *,
                task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Accept on every listener forever; each connection runs ``handler`` in a task."""
    async with trio.open_nursery() as nursery:
        for listener in listeners:
            nursery.start_soon(_accept_forever, listener, handler, nursery)
        task_status.started()


async def _accept_forever(listener: trio.SocketListener, handler: Handler,
                          nursery: trio.Nursery) -> None:
    throttle = Throttle(WARN_EVERY)
    backoff = FIRST_BACKOFF
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                if exc.errno not in CAPACITY_ERRNOS:
                    raise
                held_back = throttle.report(trio.current_time())
                if held_back is not None:
                    log.warning("cannot accept connections: %s; backing off (%d more "
                                "failures since the last warning)", exc.strerror, held_back)
                await trio.sleep(backoff)  # backing off while out of descriptors, by design
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = FIRST_BACKOFF
            nursery.start_soon(handler, stream)
