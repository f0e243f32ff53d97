"""Clients that misbehave must not crash a node or disturb anyone else."""

import contextlib
import random

import trio

from tests.support.clients import TcpClient, starts
from tests.support.nodes import NodeRunner


async def test_slow_consumer_is_dropped_and_others_carry_on(nodes: NodeRunner) -> None:
    node = await nodes.start(outbox_lines=32, command_rate=0)  # pacing is tested below
    talker = await nodes.connect(node, "ws")
    await talker.login("talker")
    listener = await nodes.connect(node, "tcp")
    await listener.login("listener")
    sloth = await TcpClient.connect(node.tcp_port)
    await sloth.login("sloth")
    heard: list[str] = []

    async def listen() -> None:
        while True:
            line = await listener.next_line(timeout=30)
            if line.startswith("msgall "):
                heard.append(line)

    big = "x" * 3000
    sent = 0
    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        # The sloth never reads again: its socket buffers fill, then its outbox.
        with trio.fail_after(20):
            while "sloth" in await talker.request("userlist"):
                assert await talker.request(f"msgall {big}") == "ok msgall"
                sent += 1
        await talker.expect("leave sloth")
        with trio.fail_after(5):
            while len(heard) < sent:
                await trio.sleep(0.01)  # waiting for the listener task's count, with a deadline
        nursery.cancel_scope.cancel()
    # The listener, reading along, got every broadcast, whole and in order.
    assert sent > 32
    assert heard == [f"msgall talker {big}"] * sent
    assert await listener.request("whoami") == "ok whoami listener"


async def test_random_garbage_never_disturbs_a_conversation(nodes: NodeRunner) -> None:
    node_a, node_b = await nodes.start(max_line_bytes=256), await nodes.start()
    alice = await nodes.connect(node_a, "tcp")
    bob = await nodes.connect(node_b, "ws")
    await alice.login("alice")
    await bob.login("bob")
    rng = random.Random(1234)
    vandals = [await TcpClient.connect(node_a.tcp_port) for _ in range(5)]
    for round_number in range(40):
        for vandal in vandals:
            size = rng.choice([1, 7, 100, 300, 2000])
            junk = bytes(rng.randrange(256) for _ in range(size))
            with contextlib.suppress(trio.BrokenResourceError):
                await vandal.send_bytes(junk)
        assert await alice.request(f"msg bob ping {round_number}") == "ok msg bob"
        assert await bob.expect(starts("msg ")) == f"msg alice ping {round_number}"
    for vandal in vandals:
        await vandal.send_bytes(b"\nwhoami\n")
        assert await vandal.expect(lambda line: line.startswith("error not_logged_in") or
                                   line.startswith("ok whoami"))
    assert await alice.request("userlist") == "ok userlist alice bob"


async def test_a_burst_of_logins_is_coalesced_into_few_join_lines(nodes: NodeRunner) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    watcher = await nodes.connect(node_a)
    await watcher.login("watcher")
    clients = [await nodes.connect(node_b) for _ in range(40)]
    everyone = {"watcher", *(f"burst{i}" for i in range(len(clients)))}
    known: list[set[str]] = [set() for _ in clients]

    async def login(index: int) -> None:
        known[index].update(await clients[index].login(f"burst{index}"))

    async with trio.open_nursery() as nursery:
        for index in range(len(clients)):
            nursery.start_soon(login, index)
    joined: list[str] = []
    join_lines = 0
    while len(joined) < len(clients):
        line = await watcher.expect(starts("join "))
        joined.extend(line.split()[1:])
        join_lines += 1
    assert sorted(joined) == sorted(f"burst{i}" for i in range(len(clients)))
    assert join_lines < len(clients)
    # Each of the burst learns of all the others, from its `users` line or a `join`.
    for index, client in enumerate(clients):
        while known[index] != everyone:
            line = await client.expect(starts("join "))
            known[index].update(line.split()[1:])


async def test_websocket_closing_from_both_ends_at_once_never_stops_the_node(
        nodes: NodeRunner) -> None:
    # Logout makes the server close while the client closes too: hypercorn once let
    # that collision escape and stop the HTTP server with every connection on it.
    node = await nodes.start()
    bystander = await nodes.connect(node, "ws")
    await bystander.login("bystander")

    async def log_in_and_out(index: int) -> None:
        client = await nodes.connect(node, "ws")
        await client.login(f"brief{index}")
        assert await client.request("logout") == "ok logout"
        await client.close()  # races the server's own close

    for _ in range(5):
        async with trio.open_nursery() as nursery:
            for index in range(20):
                nursery.start_soon(log_in_and_out, index)
    assert await bystander.request("userlist") == "ok userlist bystander"
    late = await nodes.connect(node, "ws")
    assert await late.login("late") == ["bystander", "late"]


async def test_a_flooding_client_is_paced_and_others_are_not(nodes: NodeRunner) -> None:
    node = await nodes.start(command_rate=20, command_burst=5)
    flooder = await nodes.connect(node, "tcp")
    await flooder.login("flooder")
    calm = await nodes.connect(node, "ws")
    await calm.login("calm")
    await flooder.expect("join calm")
    started = trio.current_time()
    for number in range(60):  # three seconds' worth at 20 per second, sent at once
        await flooder.send(f"msgall flood {number}")
    await calm.expect("msgall flooder flood 5")  # the flood has begun...
    assert await calm.request("userlist") == "ok userlist calm flooder"
    assert await calm.request("msg flooder still here") == "ok msg flooder"
    # ...and calm's commands were answered before the flood was through.
    assert "msgall flooder flood 59" not in calm.skipped
    # Nothing of the flood is refused or lost, only spread out.
    for number in range(60):
        assert await flooder.expect(starts("ok ")) == "ok msgall", number
    # The pace, as the flooder sees it: 5 at once, then 20 a second (a lower bound,
    # which a faster machine cannot break).
    assert trio.current_time() - started >= (60 - 5) / 20 - 0.1
    for number in range(6, 60):
        await calm.expect(f"msgall flooder flood {number}")
