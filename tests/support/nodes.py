"""Run real chat nodes inside the test's trio run, against a real Redis."""

import functools
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import trio

from node.app import NodeAddresses, run_node
from node.config import NodeConfig
from tests.support.clients import LineClient, TcpClient, WsClient

_ids = itertools.count(1)


@dataclass
class RunningNode:
    addresses: NodeAddresses
    stop_event: trio.Event
    finished: trio.Event
    config: NodeConfig

    @property
    def node_id(self) -> str:
        return self.addresses.node_id

    @property
    def tcp_port(self) -> int:
        return self.addresses.tcp_port

    @property
    def http_port(self) -> int:
        return self.addresses.http_port

    async def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        with trio.fail_after(timeout):
            await self.finished.wait()


@dataclass
class NodeRunner:
    nursery: trio.Nursery
    redis_url: str
    key_prefix: str
    nodes: list[RunningNode] = field(default_factory=list)

    async def start(self, node_id: str | None = None, **settings: object) -> RunningNode:
        defaults: dict[str, object] = {"host": "127.0.0.1", "tcp_port": 0, "http_port": 0}
        config = NodeConfig(
            node_id=node_id or f"test-node-{next(_ids)}", redis_url=self.redis_url,
            key_prefix=self.key_prefix, **{**defaults, **settings},  # type: ignore[arg-type]
        )
        stop, finished = trio.Event(), trio.Event()

        async def run(*, task_status: trio.TaskStatus[NodeAddresses]) -> None:
            try:
                await run_node(config, stop, task_status=task_status)
            finally:
                finished.set()

        with trio.fail_after(15):
            addresses = await self.nursery.start(functools.partial(run))
        node = RunningNode(addresses, stop, finished, config)
        self.nodes.append(node)
        return node

    async def connect(self, node: RunningNode, kind: str = "tcp") -> LineClient:
        if kind == "tcp":
            return await TcpClient.connect(node.tcp_port)
        return await WsClient.connect(self.nursery, node.http_port)

    async def stop_all(self) -> None:
        for node in self.nodes:
            if not node.finished.is_set():
                await node.stop()


@asynccontextmanager
async def running_nodes(nursery: trio.Nursery, redis_url: str,
                        key_prefix: str) -> AsyncIterator[NodeRunner]:
    """A NodeRunner for a test; every node it started is stopped afterwards."""
    runner = NodeRunner(nursery, redis_url, key_prefix)
    try:
        yield runner
    finally:
        await runner.stop_all()
