"""Real Valkey Clusters for the cluster-mode tests.

``valkey_cluster``: 3 primaries, no replicas, one per test session (sync fixture, as
pytest-trio's async fixtures are per test); tests share it, so each keeps to keys of
its own (the ``key_prefix`` fixture). ``valkey_cluster_with_replicas``: 3 primaries
with a replica each, a fresh one per test, for tests that kill or pause servers.
"""

from collections.abc import Iterator

import pytest

from devcluster.valkey_cluster import ValkeyCluster


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
