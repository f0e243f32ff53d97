"""Redis commands over a plain socket, for polling a server's state. Stdlib only.

RESP2 only (no ``HELLO 3``): replies are str, int, None or lists of those. Enough for
PING, INFO, CLUSTER INFO / NODES / KEYSLOT; a fresh connection per call keeps it
stateless, which suits a poll every few tens of milliseconds.
"""

import socket
from collections.abc import Sequence
from typing import BinaryIO

Reply = str | int | None | list["Reply"]


class ReplyError(Exception):
    """The server answered with an error (``-ERR ...``, ``-LOADING ...``)."""


def call(port: int, *args: str, host: str = "127.0.0.1", timeout: float = 1.0) -> Reply:
    """Send one command and return its reply; OSError if the server is unreachable."""
    return call_all(port, args, host=host, timeout=timeout)[0]


def call_all(port: int, *commands: Sequence[str], host: str = "127.0.0.1",
             timeout: float = 1.0) -> list[Reply]:
    """Several commands on one connection, in order: what belongs to a connection
    counts (``WAIT`` waits for the replicas to have that connection's writes)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(b"".join(encode(tuple(command)) for command in commands))
        with sock.makefile("rb") as stream:
            return [read_reply(stream) for _ in commands]


def encode(args: tuple[str, ...]) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def read_reply(stream: BinaryIO) -> Reply:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("the server closed the connection mid-reply")
    kind, value = line[:1], line[1:-2].decode()
    if kind == b"+":
        return value
    if kind == b"-":
        raise ReplyError(value)
    if kind == b":":
        return int(value)
    if kind == b"$":
        return None if int(value) < 0 else stream.read(int(value) + 2)[:-2].decode()
    if kind == b"*":
        return None if int(value) < 0 else [read_reply(stream) for _ in range(int(value))]
    raise ValueError(f"not a RESP2 reply: {line[:40]!r}")
