"""Real Valkey Clusters for the cluster-mode tests.

``valkey_cluster``: 3 primaries, no replicas, one per test session (sync fixture, as
pytest-trio's async fixtures are per test); tests share it, so each keeps to keys of
its own (the ``key_prefix`` fixture). ``valkey_cluster_with_replicas``: 3 primaries
with a replica each, a fresh one per test, for tests that kill or pause servers.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
import trio
from glide import GlideClusterClient, GlideClusterClientConfiguration, NodeAddress

from devcluster.valkey_cluster import ValkeyCluster
from tests.support.nodes import NodeRunner, running_nodes


@pytest.fixture(scope="session")
def valkey_cluster() -> Iterator[ValkeyCluster]:
    # No replicas, so no failover to hurry: a longer node timeout keeps a busy machine
    # from marking a slow primary failed (the whole cluster would say "fail").
    with ValkeyCluster(primaries=3, replicas_per_primary=0, node_timeout_ms=5000) as cluster:
        yield cluster


@pytest.fixture
def valkey_cluster_with_replicas() -> Iterator[ValkeyCluster]:
    with ValkeyCluster(primaries=3, replicas_per_primary=1) as cluster:
        yield cluster


@pytest.fixture
async def cluster_nodes(nursery: trio.Nursery, valkey_cluster: ValkeyCluster,
                        key_prefix: str) -> AsyncIterator[NodeRunner]:
    """In-process nodes on the shared cluster (start them with ``redis_cluster=True``)."""
    async with running_nodes(nursery, valkey_cluster.seed_url, key_prefix) as runner:
        yield runner


@pytest.fixture
async def failover_nodes(nursery: trio.Nursery, valkey_cluster_with_replicas: ValkeyCluster,
                         key_prefix: str) -> AsyncIterator[NodeRunner]:
    """In-process nodes on this test's own cluster with replicas."""
    async with running_nodes(nursery, valkey_cluster_with_replicas.seed_url,
                             key_prefix) as runner:
        yield runner


@pytest.fixture
async def operator(valkey_cluster: ValkeyCluster) -> AsyncIterator[GlideClusterClient]:
    """A cluster client, as an operator's `redis-cli -c` would be."""
    client = await GlideClusterClient.create(GlideClusterClientConfiguration(
        [NodeAddress("127.0.0.1", valkey_cluster.seed_port)]))
    yield client
    await client.close()
