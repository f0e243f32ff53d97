"""Shared fixtures: one real Redis server per test session, a fresh key prefix per test."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import trio
from glide import GlideClient, GlideClientConfiguration, NodeAddress

from devcluster.redis_server import RedisServer
from tests.support.nodes import NodeRunner, running_nodes
from tests.support.processes import NodeProcess, stop_process


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    # A sync, session-scoped fixture: pytest-trio's async fixtures are per test.
    with RedisServer() as server:
        yield server


@pytest.fixture
def key_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def nodes(nursery: trio.Nursery, redis_server: RedisServer,
                key_prefix: str) -> AsyncIterator[NodeRunner]:
    async with running_nodes(nursery, redis_server.url, key_prefix) as runner:
        yield runner


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[GlideClient]:
    """A Redis client for tests to look at the registry, as an operator would."""
    client = await GlideClient.create(
        GlideClientConfiguration([NodeAddress("127.0.0.1", redis_server.port)]))
    yield client
    await client.close()


@pytest.fixture
async def node_processes(nursery: trio.Nursery) -> AsyncIterator[list[NodeProcess]]:
    """``python -m node`` processes a test started; each is stopped afterwards."""
    started: list[NodeProcess] = []
    yield started
    for node in started:
        stop_process(node)
