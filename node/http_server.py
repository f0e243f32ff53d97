"""The node's HTTP port on h11 (and wsproto after an upgrade): the page, ``/healthz``,
``/metrics`` and ``/ws``, with the same accept loop and limits as the TCP port.

Every read has a deadline, so idle or trickling sockets cannot pile up: a request
head must arrive whole within ``REQUEST_TIMEOUT`` (also how long an idle keep-alive
connection is kept), and heads over ``MAX_HEAD_BYTES`` get 431. An upgrade to
WebSocket is checked (path, ``Origin``, handshake) before switching protocols; the
connection then runs as a chat client through ``serve_client``, like a TCP one.
"""

import contextlib
import functools
import logging
from urllib.parse import unquote

import h11
import trio
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionType

from node import accept
from node.client_socket import ClientSocket, peer_address
from node.connection import serve_client
from node.origins import OriginPolicy
from node.services import NodeServices
from node.transport_tcp import enable_keepalive
from node.transport_ws import WebSocketTransport
from node.web import Response, respond
from node.ws_handshake import Accept, decide, wants_upgrade

log = logging.getLogger(__name__)

RECEIVE_CHUNK = 65536
REQUEST_TIMEOUT = 10.0
MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024  # a body on GET/HEAD is read and ignored up to this size
# A WebSocket message over this many characters (bytes, if binary) closes the
# connection with 1009; between the line limit and this it gets `error line_too_long`.
WS_MESSAGE_CAP = 64 * 1024
WS_PING_INTERVAL = 20.0
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, OSError)


class _Done(Exception):
    """The HTTP connection is over (closed, timed out, or unusable)."""


def ws_message_cap(max_line_bytes: int) -> int:
    return max(WS_MESSAGE_CAP, 4 * max_line_bytes)


async def serve_http(services: NodeServices, *, task_status: trio.TaskStatus[int]) -> None:
    config = services.config
    listeners = await trio.open_tcp_listeners(config.http_port, host=config.host)
    port = listeners[0].socket.getsockname()[1]
    log.info("HTTP (/, /ws, /healthz, /metrics) on %s:%d", config.host, port)
    origins = OriginPolicy(config.allowed_origins)
    handler = functools.partial(_serve_connection, services, origins)
    async with trio.open_nursery() as nursery:
        await nursery.start(accept.serve, handler, listeners)
        nursery.start_soon(_ping_silent_clients, services)
        task_status.started(port)


async def _ping_silent_clients(services: NodeServices) -> None:
    """One task pings every WebSocket client silent for WS_PING_INTERVAL (checked four
    times per interval), instead of a timer per connection."""
    while True:
        await trio.sleep(WS_PING_INTERVAL / 4)  # a period, not a synchronisation
        services.connections.keepalive(trio.current_time(), WS_PING_INTERVAL)


async def _serve_connection(services: NodeServices, origins: OriginPolicy,
                            stream: trio.SocketStream) -> None:
    # One connection's failure must end that connection only, never the node.
    try:
        if services.config.tcp_keepalive:
            with contextlib.suppress(OSError):
                enable_keepalive(stream.socket, services.config.tcp_keepalive)  # type: ignore[arg-type]
        upgraded = await _HttpConnection(stream, services, origins).run()
        if upgraded is not None:  # the HTTP side (h11, the request) is gone by now
            await serve_client(upgraded, services)
    except Exception:
        log.exception("an HTTP connection failed; closed it, the node carries on")


class _HttpConnection:
    def __init__(self, stream: trio.SocketStream, services: NodeServices,
                 origins: OriginPolicy) -> None:
        self._stream = stream
        self._services = services
        self._origins = origins
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._deadline = 0.0
        self._head_bytes = 0

    async def run(self) -> WebSocketTransport | None:
        """Serve plain requests until the connection ends, or return the WebSocket
        it became (then the caller serves it as a chat client)."""
        upgraded = None
        try:
            while True:
                self._deadline = trio.current_time() + REQUEST_TIMEOUT
                self._head_bytes = 0
                request = await self._next_event()
                if not isinstance(request, h11.Request):
                    return None
                if wants_upgrade(request.headers):
                    upgraded = await self._upgrade(request)
                    return upgraded
                await self._answer(request)
                if self._h11.our_state is not h11.DONE or self._h11.their_state is not h11.DONE:
                    return None
                self._h11.start_next_cycle()
        except _Done:
            return None
        except h11.RemoteProtocolError as exc:
            await self._refuse_bad_request(exc)
            return None
        finally:
            if upgraded is None:
                with trio.CancelScope(shield=True), trio.move_on_after(1), \
                        contextlib.suppress(*_STREAM_ERRORS):
                    await self._stream.aclose()

    async def _next_event(self) -> object:
        """The next h11 event (or ``h11.PAUSED``), reading under the deadline."""
        while True:
            event = self._h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            with trio.move_on_at(self._deadline):
                try:
                    data = await self._stream.receive_some(RECEIVE_CHUNK)
                except _STREAM_ERRORS as exc:
                    raise _Done from exc
                self._count_head_bytes(len(data))
                self._h11.receive_data(data)
                continue
            raise _Done  # too slow: an idle keep-alive connection, or a slowloris

    def _count_head_bytes(self, size: int) -> None:
        """h11 checks a head's size only while it is incomplete, so a whole over-long
        head in one segment would pass: count the bytes read while waiting for one."""
        if self._h11.their_state is not h11.IDLE:
            return
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            raise h11.RemoteProtocolError("request head too long", error_status_hint=431)

    async def _answer(self, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace")
        path = unquote(request.target.partition(b"?")[0].decode("ascii", "replace"))
        response = await respond(method, path, self._services)
        if method in ("GET", "HEAD") and not await self._skip_body():
            response = Response(413, b"a GET or HEAD request carries no body\n")
        await self._send_response(response, head_only=method == "HEAD")

    async def _skip_body(self) -> bool:
        """Read the request's body, if any, and drop it; False if it is too big."""
        size = 0
        while True:
            event = await self._next_event()
            if isinstance(event, h11.EndOfMessage):
                return True
            if not isinstance(event, h11.Data):
                raise _Done
            size += len(event.data)
            if size > MAX_BODY_BYTES:
                return False

    async def _send_response(self, response: Response, *, head_only: bool = False) -> None:
        headers = [(b"content-type", response.content_type.encode()),
                   (b"content-length", str(len(response.body)).encode()),
                   (b"cache-control", b"no-cache"), *response.headers]
        if self._h11.their_state is not h11.DONE:  # the request was not read to its end
            headers.append((b"connection", b"close"))
        data = self._h11.send(h11.Response(status_code=response.status, headers=headers))
        if not head_only:
            data += self._h11.send(h11.Data(data=response.body))
        data += self._h11.send(h11.EndOfMessage())
        await self._send(data)

    async def _send(self, data: bytes | None) -> None:
        try:
            await self._stream.send_all(data or b"")
        except _STREAM_ERRORS as exc:
            raise _Done from exc

    async def _refuse_bad_request(self, exc: h11.RemoteProtocolError) -> None:
        if self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        status = exc.error_status_hint
        with contextlib.suppress(_Done, h11.LocalProtocolError), trio.move_on_after(1):
            await self._send_response(Response(status, f"bad request: {exc}\n".encode()))

    async def _upgrade(self, request: h11.Request) -> WebSocketTransport | None:
        """Switch to WebSocket; the transport, or None if refused."""
        method = request.method.decode("ascii", "replace")
        path = unquote(request.target.partition(b"?")[0].decode("ascii", "replace"))
        decision = decide(method, path, request.headers, self._origins)
        if not isinstance(decision, Accept):
            log.info("ws:%s: WebSocket refused (%d): %s", peer_address(self._stream.socket),
                     decision.status, decision.reason.strip())
            await self._send_response(Response(decision.status, decision.reason.encode(),
                                               headers=decision.headers))
            return None
        await self._send(self._h11.send(h11.InformationalResponse(status_code=101, headers=[
            (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
            (b"sec-websocket-accept", decision.token)])))
        trailing, _ = self._h11.trailing_data
        config = self._services.config
        transport = WebSocketTransport(
            ClientSocket(self._stream),
            WsConnection(ConnectionType.SERVER, trailing_data=trailing),
            max_line_bytes=config.max_line_bytes,
            max_message=ws_message_cap(config.max_line_bytes),
            partial_line_timeout=config.partial_line_timeout)
        return transport
