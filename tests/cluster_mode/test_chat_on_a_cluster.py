"""Nodes in cluster mode (--redis-cluster) on a real 3-primary Valkey Cluster: the chat
works across nodes as on one Redis, the registry is where an operator looks for it
(`{prefix}:users`), and only sharded pub/sub is used, spread over the shards."""

import signal

import trio
from glide import GlideClusterClient

from devcluster.valkey_cluster import ValkeyCluster
from tests.support.clients import LineClient, TcpClient, joined, starts
from tests.support.nodes import NodeRunner
from tests.support.processes import NodeProcess, start_node_process


async def _users(operator: GlideClusterClient, key_prefix: str) -> dict[str, str]:
    entries = await operator.hgetall(f"{{{key_prefix}}}:users")
    return {name.decode(): node.decode() for name, node in entries.items()}


async def test_chat_across_nodes(cluster_nodes: NodeRunner, operator: GlideClusterClient,
                                 key_prefix: str) -> None:
    one = await cluster_nodes.start(redis_cluster=True)
    two = await cluster_nodes.start(redis_cluster=True)
    alice = await cluster_nodes.connect(one, "tcp")
    assert await alice.login("alice") == ["alice"]
    bob = await cluster_nodes.connect(two, "ws")
    assert await bob.login("Bob") == ["alice", "Bob"]
    await alice.expect(joined("Bob"))

    assert await alice.request("msg BOB hello there") == "ok msg Bob"
    assert await bob.expect(starts("msg ")) == "msg alice hello there"
    assert await alice.request("msg carol hi") == \
        "error no_such_user nobody called carol is online"
    assert await bob.request("msgall hi all") == "ok msgall"
    assert await alice.expect(starts("msgall ")) == "msgall Bob hi all"
    assert await bob.expect(starts("msgall ")) == "msgall Bob hi all"
    assert await alice.request("userlist") == "ok userlist alice Bob"
    assert await _users(operator, key_prefix) == {"alice": one.node_id, "Bob": two.node_id}

    assert await bob.request("logout") == "ok logout"
    assert await alice.expect(starts("leave ")) == "leave Bob"
    assert await _users(operator, key_prefix) == {"alice": one.node_id}


async def test_name_race_has_exactly_one_winner(cluster_nodes: NodeRunner,
                                                operator: GlideClusterClient,
                                                key_prefix: str) -> None:
    one = await cluster_nodes.start(redis_cluster=True)
    two = await cluster_nodes.start(redis_cluster=True)
    racers: list[LineClient] = [await cluster_nodes.connect((one, two)[i % 2], "tcp")
                                for i in range(8)]
    replies: list[str] = []

    async def race(client: LineClient, spelling: str) -> None:
        replies.append(await client.request(f"login {spelling}"))

    async with trio.open_nursery() as nursery:
        for index, client in enumerate(racers):
            # Case and look-alike spellings collide too (the same folded name or skeleton).
            nursery.start_soon(race, client, ("zoe", "ZOE", "Zoe", "zoE")[index % 4])
    assert len([reply for reply in replies if reply.startswith("ok login")]) == 1
    assert len([reply for reply in replies if reply.startswith("error name_taken")]) == 7
    assert len(await _users(operator, key_prefix)) == 1


async def test_only_shard_channels_spread_over_the_shards(
        cluster_nodes: NodeRunner, valkey_cluster: ValkeyCluster, key_prefix: str) -> None:
    started = [await cluster_nodes.start(redis_cluster=True) for _ in range(3)]
    alice = await cluster_nodes.connect(started[0], "tcp")
    await alice.login("alice")
    bob = await cluster_nodes.connect(started[2], "tcp")
    await bob.login("bob")
    assert await alice.request("msg bob hi") == "ok msg bob"
    await bob.expect(starts("msg alice"))

    channels = {f"{key_prefix}:node:{node.node_id}" for node in started}
    channels.add(f"{{{key_prefix}}}:broadcast")
    served: dict[str, int] = {}
    for port in valkey_cluster.ports:
        # No classic pub/sub anywhere: its messages would be copied to every shard.
        assert valkey_cluster.run_cli(port, "PUBSUB", "CHANNELS", f"*{key_prefix}*").strip() == ""
        for channel in valkey_cluster.run_cli(
                port, "PUBSUB", "SHARDCHANNELS", f"*{key_prefix}*").split():
            served[channel] = port
    assert set(served) == channels
    # Each channel is served by the primary owning its slot; node channels carry no
    # hash tag, so they do not all land on the registry's shard.
    for channel, port in served.items():
        assert valkey_cluster.primary_for_key(channel) == port
    slots = {int(valkey_cluster.run_cli(valkey_cluster.seed_port, "CLUSTER", "KEYSLOT", channel))
             for channel in channels}
    assert len(slots) == len(channels)


async def test_survivors_reap_a_crashed_node(
        nursery: trio.Nursery, valkey_cluster: ValkeyCluster, key_prefix: str,
        node_processes: list[NodeProcess], operator: GlideClusterClient) -> None:
    fast = ("--redis-cluster", "--heartbeat-interval", "0.5", "--heartbeat-ttl", "1.5")
    survivor = await start_node_process(nursery, valkey_cluster.seed_url, key_prefix, "s1",
                                        *fast)
    victim = await start_node_process(nursery, valkey_cluster.seed_url, key_prefix, "v1",
                                      *fast)
    node_processes.extend([survivor, victim])
    watcher = await TcpClient.connect(survivor.tcp_port)
    await watcher.login("watcher")
    doomed = await TcpClient.connect(victim.tcp_port)
    await doomed.login("doomed")
    await watcher.expect("join doomed")

    victim.signal(signal.SIGKILL)  # no cleanup at all
    await victim.wait()
    await watcher.expect("leave doomed", timeout=10)
    assert await _users(operator, key_prefix) == {"watcher": "s1"}
    assert await operator.smembers(f"{{{key_prefix}}}:nodes") == {b"s1"}
