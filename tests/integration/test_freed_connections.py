"""A connection that ended is freed by reference counting alone: nothing of it waits
for the cyclic garbage collector, which a node runs rarely (node/gc_policy.py)."""

import gc
from collections.abc import Iterator

import pytest
import trio

from node.connection import Connection
from tests.support.nodes import NodeRunner


def _connections() -> int:
    """Connection objects in memory, garbage in reference cycles included."""
    return sum(isinstance(thing, Connection) for thing in gc.get_objects())


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("kind", ["tcp", "ws"])
async def test_an_ended_connection_leaves_nothing_for_the_collector(
        nodes: NodeRunner, kind: str, collector_off: None) -> None:
    node = await nodes.start()
    before = _connections()
    for number in range(3):
        client = await nodes.connect(node, kind)
        await client.login(f"ann{number}")
        assert await client.request("logout") == "ok logout"
        await client.closed()
    with trio.fail_after(5):
        while _connections() > before:
            await trio.sleep(0.02)  # polling for the node's side to end, with a deadline
