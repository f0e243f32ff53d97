"""A TCP client that vanishes without closing must not hold its name forever: the node
turns on kernel keepalive for every client socket. Observed from outside, in the
kernel's own socket table (/proc/net/tcp), as an operator would with ``ss -o``."""

from pathlib import Path

import pytest
import trio

from tests.support.clients import TcpClient
from tests.support.nodes import NodeRunner

PROC_TCP = Path("/proc/net/tcp")
KEEPALIVE_TIMER = 2  # the "tr" column: 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 zero window
USER_HZ = 100  # "tm->when" counts clock ticks

pytestmark = pytest.mark.skipif(not PROC_TCP.exists(), reason="needs Linux /proc/net/tcp")


def _server_side_timer(node_port: int, client_port: int) -> tuple[int, float]:
    """(timer kind, seconds until it fires) of the node's end of one client connection."""
    for row in PROC_TCP.read_text().splitlines()[1:]:
        fields = row.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if (local_port, remote_port) == (node_port, client_port):
            kind, when = fields[5].split(":")
            return int(kind, 16), int(when, 16) / USER_HZ
    raise AssertionError(f"no socket {node_port} -> {client_port} in {PROC_TCP}")


async def _settled_timer(node_port: int, client: TcpClient) -> tuple[int, float]:
    """The timer once nothing is in flight (a retransmit timer may show briefly)."""
    client_port = client.stream.socket.getsockname()[1]
    with trio.fail_after(5):
        while (timer := _server_side_timer(node_port, client_port))[0] == 1:
            await trio.sleep(0.01)  # polling the kernel's table, with a deadline
    return timer


async def test_client_sockets_are_probed_after_the_keepalive_idle_time(
        nodes: NodeRunner) -> None:
    node = await nodes.start(tcp_keepalive=7)
    client = await nodes.connect(node)
    assert isinstance(client, TcpClient)
    await client.login("idler")
    kind, seconds = await _settled_timer(node.tcp_port, client)
    assert kind == KEEPALIVE_TIMER
    assert 0 < seconds <= 7


async def test_keepalive_zero_turns_it_off(nodes: NodeRunner) -> None:
    node = await nodes.start(tcp_keepalive=0)
    client = await nodes.connect(node)
    assert isinstance(client, TcpClient)
    await client.login("idler")
    kind, _ = await _settled_timer(node.tcp_port, client)
    assert kind == 0
