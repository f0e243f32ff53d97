"""The Redis registry as an operator sees it: atomic name claims across nodes,
and no orphans after churn."""

import random

import trio
from glide import GlideClient, InfoSection

from node.names import skeleton
from tests.support.clients import LineClient, starts
from tests.support.nodes import NodeRunner, RunningNode


async def _hgetall(redis: GlideClient, key: str) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in (await redis.hgetall(key)).items()}


async def _wait_for_registry(redis: GlideClient, prefix: str, expected: dict[str, str]) -> None:
    actual: dict[str, str] = {}
    with trio.move_on_after(5):
        while (actual := await _hgetall(redis, f"{prefix}:users")) != expected:
            await trio.sleep(0.02)  # polling Redis for a condition, with a deadline
    assert actual == expected


async def _is_logged_in(client: LineClient) -> bool:
    return (await client.request("whoami")).startswith("ok whoami")


async def test_name_race_across_nodes_has_exactly_one_winner(nodes: NodeRunner,
                                                             redis: GlideClient) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    racers: list[LineClient] = []
    winners_kept: list[LineClient] = []
    for index in range(24):
        racers.append(await nodes.connect([node_a, node_b][index % 2],
                                          "ws" if index % 3 == 0 else "tcp"))
    for round_number in range(6):
        name = f"racer{round_number}"
        replies: list[str] = []

        async def claim(client: LineClient, spelling: str, replies: list[str]) -> None:
            replies.append(await client.request(f"login {spelling}"))

        async with trio.open_nursery() as nursery:
            for index, client in enumerate(racers):
                nursery.start_soon(claim, client, name.upper() if index % 4 == 0 else name,
                                   replies)
        winners = [r for r in replies if r.startswith("ok login")]
        assert len(winners) == 1, replies
        assert len([r for r in replies if r.startswith("error name_taken")]) == len(racers) - 1
        # The winner leaves the pool (kept open); the losers race again for the next name.
        still_out = [client for client in racers if not await _is_logged_in(client)]
        winners_kept.extend(client for client in racers if client not in still_out)
        racers = still_out
    registry = await _hgetall(redis, f"{nodes.key_prefix}:users")
    assert sorted(name.lower() for name in registry) == [f"racer{i}" for i in range(6)]
    assert set(registry.values()) <= {node_a.node_id, node_b.node_id}
    names = await _hgetall(redis, f"{nodes.key_prefix}:names")
    assert names == {name.lower(): name for name in registry}


async def test_registry_matches_who_is_connected_after_churn(nodes: NodeRunner,
                                                             redis: GlideClient) -> None:
    cluster = [await nodes.start(), await nodes.start()]
    rng = random.Random(7)
    online: dict[str, tuple[LineClient, RunningNode]] = {}
    for step in range(60):
        if online and rng.random() < 0.4:
            name = rng.choice(sorted(online))
            client, _ = online.pop(name)
            if rng.random() < 0.5:
                assert await client.request("logout") == "ok logout"
            await client.close()
        else:
            node = rng.choice(cluster)
            client = await nodes.connect(node, rng.choice(["tcp", "ws"]))
            name = f"user{step}"
            await client.login(name)
            online[name] = (client, node)
    expected = {name: node.node_id for name, (_, node) in online.items()}
    await _wait_for_registry(redis, nodes.key_prefix, expected)
    prefix = nodes.key_prefix
    for node in cluster:
        held = await _hgetall(redis, f"{prefix}:node:{node.node_id}:users")
        assert held == {n: skeleton(n) for n, (_, held_by) in online.items() if held_by is node}
    # Nothing left behind by those who left: one claim and one skeleton per name online.
    assert await _hgetall(redis, f"{prefix}:skeletons") == {skeleton(n): n for n in online}
    assert set(await _hgetall(redis, f"{prefix}:claims")) == set(online)
    survivor, _ = next(iter(online.values()))
    listed = (await survivor.request("userlist")).split()[2:]
    assert sorted(listed) == sorted(online)


async def test_stopping_a_node_releases_its_users_and_says_leave(nodes: NodeRunner,
                                                                redis: GlideClient) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    watcher = await nodes.connect(node_a)
    await watcher.login("watcher")
    for name in ("x1", "x2", "x3"):
        await (await nodes.connect(node_b, "ws")).login(name)
    await node_b.stop()
    leaves: set[str] = set()
    while leaves != {"x1", "x2", "x3"}:
        line = await watcher.expect(starts("leave "))
        leaves.update(line.split()[1:])
    await _wait_for_registry(redis, nodes.key_prefix, {"watcher": node_a.node_id})
    assert await redis.smembers(f"{nodes.key_prefix}:nodes") == {node_a.node_id.encode()}
    assert not await redis.exists([f"{nodes.key_prefix}:node:{node_b.node_id}:alive"])


async def test_operator_view_is_plain(nodes: NodeRunner, redis: GlideClient) -> None:
    node = await nodes.start(node_id="node-7")
    client = await nodes.connect(node)
    await client.login("Ünal")
    assert await _hgetall(redis, f"{nodes.key_prefix}:users") == {"Ünal": "node-7"}
    assert await redis.exists([f"{nodes.key_prefix}:node:node-7:alive"])
    ttl = await redis.pttl(f"{nodes.key_prefix}:node:node-7:alive")
    assert 0 < ttl <= 15_000


async def test_users_still_connected_are_put_back_when_redis_loses_them(
        nodes: NodeRunner, redis: GlideClient) -> None:
    fast = {"heartbeat_interval": 0.1, "heartbeat_ttl": 1.0}
    node_a, node_b = await nodes.start(**fast), await nodes.start(**fast)
    alice = await nodes.connect(node_a)
    await alice.login("alice")
    bob = await nodes.connect(node_b, "ws")
    await bob.login("bob")
    prefix = nodes.key_prefix
    # Redis forgets everything (a restart without persistence, a FLUSHALL).
    await redis.delete([f"{prefix}:users", f"{prefix}:names", f"{prefix}:nodes",
                        f"{prefix}:skeletons", f"{prefix}:claims",
                        f"{prefix}:node:{node_a.node_id}:users",
                        f"{prefix}:node:{node_b.node_id}:users"])
    await _wait_for_registry(redis, prefix, {"alice": node_a.node_id, "bob": node_b.node_id})
    assert await redis.hkeys(f"{prefix}:node:{node_a.node_id}:users") == [b"alice"]
    assert await alice.request("msg bob still there?") == "ok msg bob"
    assert await bob.expect(starts("msg ")) == "msg alice still there?"
    third = await nodes.connect(node_a)
    assert (await third.request("login ALICE")).startswith("error name_taken")


async def _hset_calls(redis: GlideClient) -> int:
    stats = (await redis.info([InfoSection.COMMAND_STATS])).decode()
    line = next((line for line in stats.splitlines() if line.startswith("cmdstat_hset:")), "")
    return int(line.split("calls=")[1].split(",")[0]) if line else 0


async def test_heartbeats_write_nothing_while_the_registry_is_intact_and_heal_a_partial_loss(
        nodes: NodeRunner, redis: GlideClient) -> None:
    node = await nodes.start(heartbeat_interval=0.1, heartbeat_ttl=1.0)
    alice = await nodes.connect(node)
    await alice.login("alice")
    prefix = nodes.key_prefix
    before = await _hset_calls(redis)
    last_ttl = await redis.pttl(f"{prefix}:node:{node.node_id}:alive")
    with trio.fail_after(5):  # wait for a few heartbeats (each renews the alive key)
        seen = 0
        while seen < 3:
            ttl = await redis.pttl(f"{prefix}:node:{node.node_id}:alive")
            seen += ttl > last_ttl
            last_ttl = ttl
            await trio.sleep(0.02)  # polling Redis for a condition, with a deadline
    assert await _hset_calls(redis) == before  # re-asserting alice wrote nothing
    # An entry goes missing (an operator's HDEL, a lost write): the next round puts it back.
    await redis.hdel(f"{prefix}:skeletons", [skeleton("alice")])
    with trio.fail_after(5):
        while not await redis.hget(f"{prefix}:skeletons", skeleton("alice")):
            await trio.sleep(0.02)  # polling Redis for a condition, with a deadline
    other = await nodes.connect(node)
    assert (await other.request("login aIice")).startswith("error name_taken")


async def test_a_name_claimed_elsewhere_meanwhile_disconnects_the_old_holder(
        nodes: NodeRunner, redis: GlideClient) -> None:
    node = await nodes.start(heartbeat_interval=0.1, heartbeat_ttl=1.0)
    holder = await nodes.connect(node)
    await holder.login("carol")
    watcher = await nodes.connect(node)
    await watcher.login("watcher")
    await holder.expect("join watcher")
    prefix = nodes.key_prefix
    # While the registry was gone, another node's session took the name.
    await redis.delete([f"{prefix}:users", f"{prefix}:names", f"{prefix}:claims"])
    await redis.hset(f"{prefix}:names", {"carol": "Carol"})
    await redis.hset(f"{prefix}:claims", {"carol": "another-session"})
    await redis.hset(f"{prefix}:users", {"Carol": "elsewhere"})
    # The old holder is told why, in one last line, and closed; the others are told its
    # spelling left (the new holder spells it "Carol": keyed exactly, lists keep both).
    assert await holder.closed() == ["bye name_taken"]
    await watcher.expect("leave carol")
    await _wait_for_registry(redis, prefix, {"Carol": "elsewhere", "watcher": node.node_id})
    assert await watcher.request("whoami") == "ok whoami watcher"
