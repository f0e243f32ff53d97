"""An outbox over a real socket: when a line goes out at once, and when it waits for
the Flusher's round (which these tests run by hand, or not at all)."""

import socket

import trio

from node.client_socket import ClientSocket
from node.flusher import Flusher
from node.outbox import Outbox


def _pair(flusher: Flusher) -> tuple[Outbox, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        theirs = socket.create_connection(listener.getsockname())
        ours, _ = listener.accept()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(ours))
    outbox = Outbox(ClientSocket(stream), capacity=8, flusher=flusher, backed_up=lambda: None)
    theirs.settimeout(5)
    return outbox, theirs


def _pending(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return b""
    finally:
        sock.settimeout(5)


async def test_a_direct_line_goes_out_without_a_flusher_round() -> None:
    outbox, client = _pair(Flusher())
    assert outbox.offer(b"msg ann hi\n", now=True)
    assert client.recv(100) == b"msg ann hi\n"
    assert len(outbox) == 0
    client.close()


async def test_own_replies_wait_for_the_round_like_broadcasts() -> None:
    outbox, client = _pair(Flusher())
    await outbox.put(b"ok msgall\n")
    assert outbox.offer(b"msgall ann hi\n")
    assert _pending(client) == b""
    outbox.flush()  # what the Flusher's round does
    assert client.recv(100) == b"ok msgall\nmsgall ann hi\n"
    client.close()


async def test_broadcast_lines_wait_for_the_round_and_keep_their_place() -> None:
    flusher = Flusher()
    outbox, client = _pair(flusher)
    assert outbox.offer(b"msgall bob one\n")
    assert outbox.offer(b"msg ann two\n", now=True)  # after the queued line, not before
    assert _pending(client) == b""
    outbox.flush()  # what the Flusher's round does
    assert client.recv(100) == b"msgall bob one\nmsg ann two\n"
    client.close()
