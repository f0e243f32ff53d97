"""The Valkey Cluster harness itself, against real servers: it comes up settled,
redirects work, killing a primary leads to its replica taking over in seconds, and a
start that fails stops what it started."""

import signal
import time

import pytest

from devcluster.resp import call_all
from devcluster.valkey_cluster import ValkeyCluster

USERS_KEY = "{chat}:users"


def test_cluster_comes_up_and_a_key_set_via_one_node_reads_back_via_another(
        valkey_cluster: ValkeyCluster, key_prefix: str) -> None:
    view = valkey_cluster.view
    assert len(valkey_cluster.ports) == 3 and len(view.primaries()) == 3
    key = f"{{{key_prefix}}}:probe"
    owner = valkey_cluster.primary_for_key(key)
    elsewhere = [port for port in valkey_cluster.ports if port != owner]
    # Set through a node that does not own the key: -c follows the MOVED redirect.
    assert valkey_cluster.run_cli(elsewhere[0], "-c", "SET", key, "hello") == "OK\n"
    assert valkey_cluster.run_cli(elsewhere[1], "-c", "GET", key) == "hello\n"
    assert valkey_cluster.run_cli(owner, "GET", key) == "hello\n"
    assert valkey_cluster.run_cli(elsewhere[0], "GET", key).startswith("MOVED ")
    assert valkey_cluster.seed_url in {f"redis://127.0.0.1:{port}" for port in view.primaries()}


def test_killing_the_primary_of_the_users_key_promotes_its_replica(
        valkey_cluster_with_replicas: ValkeyCluster) -> None:
    cluster = valkey_cluster_with_replicas
    old = cluster.primary_for_key(USERS_KEY)
    replicas = cluster.view.replicas_of(old)
    assert len(replicas) == 1
    # WAIT on the writing connection: the replica has the write. (Just after its
    # first sync a replica gets writes only once it has sent an ACK, up to 1 s later:
    # without the WAIT, the failover could lose this one.)
    assert call_all(old, ("SADD", USERS_KEY, "alice"), ("WAIT", "1", "5000"),
                    timeout=10) == [1, 1]

    killed_at = time.monotonic()
    cluster.kill(old, signal.SIGKILL)
    new = cluster.wait_promoted(old, timeout=15)
    took = time.monotonic() - killed_at
    print(f"\nprimary {old} killed; replica {new} promoted, cluster ok in {took:.2f} s")

    assert new == replicas[0]
    assert cluster.primary_for_key(USERS_KEY) == new
    assert cluster.seed_url != f"redis://127.0.0.1:{old}"
    survivor = next(port for port in cluster.ports if port not in (old, new))
    assert cluster.run_cli(survivor, "-c", "SMEMBERS", USERS_KEY) == "alice\n"


def test_a_start_that_times_out_leaves_no_server_behind() -> None:
    cluster = ValkeyCluster(primaries=3)
    with pytest.raises(TimeoutError):
        cluster.start(timeout=0.5)  # valkey-cli alone takes about a second
    assert len(cluster.pids()) == 3
    assert not any(cluster.running(port) for port in cluster.ports)


def test_one_primary_holds_every_slot_and_two_are_refused() -> None:
    with ValkeyCluster(primaries=1) as cluster:
        [port] = cluster.ports
        assert cluster.view.primaries() == [port]
        assert cluster.primary_for_key(USERS_KEY) == port
        assert "cluster_slots_ok:16384" in cluster.run_cli(port, "CLUSTER", "INFO")
    for primaries, replicas in ((2, 0), (1, 1), (0, 0)):
        with pytest.raises(ValueError):
            ValkeyCluster(primaries=primaries, replicas_per_primary=replicas)
