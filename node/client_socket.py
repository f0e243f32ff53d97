"""One client's socket, owned directly: reads are awaited, writes are synchronous.

Sending to many clients is the node's main work, and a trio ``send_all`` per line per
client (a task wake-up and a system call each) was most of its CPU. Here a write is a
plain non-blocking ``send``: whatever the kernel does not take right away is kept, in
order, and the client's writer task waits for the socket to become writable
(``drain``). So a fan-out can hand bytes to hundreds of sockets without waking anyone.
"""

import contextlib
import math
import socket

import trio

from node.transport import ConnectionLost

RECEIVE_CHUNK = 65536


def peer_address(sock: socket.socket | trio.socket.SocketType) -> str:
    """``host:port`` of the other end; ``?`` once it is gone."""
    try:
        host, port = sock.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"


class ClientSocket:
    __slots__ = ("_sock", "address", "_unsent", "_closed")

    def __init__(self, stream: trio.SocketStream) -> None:
        # The stream hands its descriptor over; from here on this object owns it.
        self._sock = socket.socket(fileno=stream.socket.detach())
        self._sock.setblocking(False)
        self.address = peer_address(self._sock)
        self._unsent = b""
        self._closed = False

    @property
    def blocked(self) -> bool:
        """Bytes are waiting for the kernel to take them (the client reads slowly)."""
        return bool(self._unsent)

    @property
    def raw(self) -> socket.socket:
        return self._sock

    async def receive(self, deadline: float = math.inf) -> bytes | None:
        """The next bytes from the client; b"" when it closed its side; None if none
        came by ``deadline`` (trio's clock; a cancel scope only when it is finite)."""
        while True:
            try:
                return self._sock.recv(RECEIVE_CHUNK)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise ConnectionLost(str(exc)) from exc
            try:
                if deadline == math.inf:
                    await trio.lowlevel.wait_readable(self._sock)
                    continue
                with trio.move_on_at(deadline) as waited:
                    await trio.lowlevel.wait_readable(self._sock)
                if waited.cancelled_caught:
                    return None
            except trio.ClosedResourceError as exc:
                raise ConnectionLost("closed") from exc

    def write(self, data: bytes) -> None:
        """Send ``data`` after anything still unsent, without waiting; what the kernel
        does not take now stays for ``drain``. Raises ConnectionLost."""
        if self._closed:
            raise ConnectionLost("closed")
        if self._unsent:
            self._unsent += data
            return
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise ConnectionLost(str(exc)) from exc
        if sent < len(data):
            self._unsent = data[sent:]

    async def drain(self) -> None:
        """Wait until every byte written has gone to the kernel. Raises ConnectionLost."""
        while self._unsent:
            try:
                await trio.lowlevel.wait_writable(self._sock)
                sent = self._sock.send(self._unsent)
            except BlockingIOError:
                continue
            except (OSError, trio.ClosedResourceError) as exc:
                raise ConnectionLost(str(exc)) from exc
            self._unsent = self._unsent[sent:]

    def close(self) -> None:
        """Close the socket; a task waiting on it gets ConnectionLost. Never raises."""
        if self._closed:
            return
        self._closed = True
        trio.lowlevel.notify_closing(self._sock)
        with contextlib.suppress(OSError):
            self._sock.close()
