"""A primary failover produced for real: SIGKILL the Valkey primary that owns the
registry's slot while users are connected. Nobody is disconnected, commands fail fast
with `error unavailable` meanwhile, /healthz says so, and once the replica has taken
over chat and presence across nodes work again, the registry matching who is connected."""

import itertools
import signal
import time

import trio
from glide import GlideClusterClient, GlideClusterClientConfiguration, NodeAddress

from devcluster.valkey_cluster import ValkeyCluster
from tests.support.clients import LineClient, starts
from tests.support.nodes import NodeRunner
from tests.support.processes import http_get

# From the promotion to chat working again across nodes, both ways. Measured: about a
# second (docs/failure-modes.md); with one subscriber client for both channels glide
# needed about 18 s, which this bound catches.
RECOVERY_DEADLINE = 12


async def test_failover_of_the_registry_primary(
        failover_nodes: NodeRunner, valkey_cluster_with_replicas: ValkeyCluster,
        key_prefix: str) -> None:
    cluster = valkey_cluster_with_replicas
    one = await failover_nodes.start(redis_cluster=True)
    two = await failover_nodes.start(redis_cluster=True)
    alice = await failover_nodes.connect(one, "tcp")
    await alice.login("alice")
    bob = await failover_nodes.connect(two, "ws")
    await bob.login("bob")
    await alice.expect("join bob")

    registry = cluster.primary_for_key(f"{{{key_prefix}}}:users")
    health: list[str] = []

    async def watch_health() -> None:
        while True:
            status, body = await http_get(one.http_port, "/healthz")
            if status != 200:
                health.append(body.strip())
            await trio.sleep(0.05)  # polling /healthz while the cluster fails over

    killed_at = time.monotonic()
    cluster.kill(registry, signal.SIGKILL)
    async with trio.open_nursery() as watching:
        watching.start_soon(watch_health)
        # Meanwhile a command that needs the dead primary fails, within --redis-timeout.
        with trio.fail_after(10):
            started = time.monotonic()
            reply = await alice.request("msgall anyone?")
            assert reply.startswith("error unavailable"), reply
            assert time.monotonic() - started < 4  # --redis-timeout (2 s) and a margin
        promoted = await trio.to_thread.run_sync(cluster.wait_promoted, registry, 20)
        watching.cancel_scope.cancel()
    assert "redis unreachable" in health  # /healthz said so while the primary was gone
    promoted_after = time.monotonic() - killed_at

    # Chat works again across nodes, both ways. Pub/sub is at most once: a message
    # published before a node's subscription on the new primary is back is lost, so
    # each direction is tried until one gets through.
    with trio.fail_after(RECOVERY_DEADLINE):
        await _until_heard(alice, "msg bob", bob, "msg alice")
        direct_after = time.monotonic() - killed_at
        await _until_heard(bob, "msgall", alice, "msgall bob")
    broadcast_after = time.monotonic() - killed_at
    print(f"\nprimary {registry} killed: replica {promoted} promoted after "
          f"{promoted_after:.1f} s; direct messages across nodes after {direct_after:.1f} s, "
          f"broadcasts after {broadcast_after:.1f} s")

    # Nobody was disconnected; both still hold their names; the registry says so.
    assert await alice.request("whoami") == "ok whoami alice"
    assert await bob.request("whoami") == "ok whoami bob"
    assert await alice.request("userlist") == "ok userlist alice bob"
    operator = await GlideClusterClient.create(GlideClusterClientConfiguration(
        [NodeAddress("127.0.0.1", promoted)]))
    try:
        users = await operator.hgetall(f"{{{key_prefix}}}:users")
    finally:
        await operator.close()
    assert users == {b"alice": one.node_id.encode(), b"bob": two.node_id.encode()}
    with trio.fail_after(10):
        while (await http_get(one.http_port, "/healthz"))[0] != 200 or \
                (await http_get(two.http_port, "/healthz"))[0] != 200:
            await trio.sleep(0.05)
    # A newcomer logs in and is announced everywhere.
    carol = await failover_nodes.connect(two, "tcp")
    assert await carol.login("carol") == ["alice", "bob", "carol"]
    assert await alice.expect(starts("join ")) == "join carol"


async def _until_heard(sender: LineClient, command: str, receiver: LineClient,
                       event: str) -> None:
    """Send ``command <n>`` until ``receiver`` gets ``event <n>`` for one of them."""
    for attempt in itertools.count(1):
        reply = await sender.request(f"{command} try {attempt}")
        if reply.startswith("ok "):
            with trio.move_on_after(0.5):
                while not (await receiver.next_line()).startswith(event):
                    pass
                return
        else:
            assert reply.startswith("error unavailable"), reply
            await trio.sleep(0.1)  # retrying until the cluster answers, with a deadline
