"""Two nodes in one process sharing one real Redis: users on different nodes,
over TCP and WebSocket, talk as if on one server."""

import pytest
import trio

from tests.support.clients import starts
from tests.support.nodes import NodeRunner

KINDS = [("tcp", "tcp"), ("tcp", "ws"), ("ws", "tcp"), ("ws", "ws")]


@pytest.mark.parametrize(("kind_a", "kind_b"), KINDS)
async def test_direct_and_broadcast_between_nodes(nodes: NodeRunner, kind_a: str,
                                                  kind_b: str) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    alice = await nodes.connect(node_a, kind_a)
    bob = await nodes.connect(node_b, kind_b)
    assert await alice.login("alice") == ["alice"]
    assert await bob.login("bob") == ["alice", "bob"]
    await alice.expect("join bob")

    assert await alice.request("msg bob hi  there, bob ") == "ok msg bob"
    assert await bob.expect(starts("msg ")) == "msg alice hi  there, bob "

    assert await bob.request("msg ALICE back at you") == "ok msg alice"
    assert await alice.expect(starts("msg ")) == "msg bob back at you"

    assert await bob.request("msgall hello   everyone") == "ok msgall"
    assert await alice.expect(starts("msgall")) == "msgall bob hello   everyone"
    assert await bob.expect(starts("msgall")) == "msgall bob hello   everyone"


async def test_userlist_is_cluster_wide(nodes: NodeRunner) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    clients = []
    for index, name in enumerate(["Zed", "amy", "Bob", "carl"]):
        client = await nodes.connect([node_a, node_b][index % 2], ["tcp", "ws"][index // 2])
        await client.login(name)
        clients.append(client)
    for client in clients:
        assert await client.request("userlist") == "ok userlist amy Bob carl Zed"


async def test_join_and_leave_reach_other_nodes(nodes: NodeRunner) -> None:
    node_a, node_b = await nodes.start(), await nodes.start()
    watcher = await nodes.connect(node_a, "ws")
    await watcher.login("watcher")
    leaver = await nodes.connect(node_b, "tcp")
    dropper = await nodes.connect(node_b, "ws")
    await leaver.login("leaver")
    await watcher.expect("join leaver")
    await dropper.login("dropper")
    await watcher.expect("join dropper")

    assert await leaver.request("logout") == "ok logout"
    assert await leaver.closed() == []
    await watcher.expect("leave leaver")

    await dropper.close()  # gone without logout
    await watcher.expect("leave dropper")
    assert await watcher.request("userlist") == "ok userlist watcher"


async def test_message_to_user_who_is_not_online(nodes: NodeRunner) -> None:
    node_a = await nodes.start()
    alice = await nodes.connect(node_a)
    await alice.login("alice")
    reply = await alice.request("msg ghost are you there?")
    assert reply.startswith("error no_such_user ")


async def test_simultaneous_logins_on_both_nodes_all_see_each_other(nodes: NodeRunner) -> None:
    # A join published after my claim can reach my node before my claim's reply does;
    # nobody may end up missing someone who is online.
    node_a, node_b = await nodes.start(), await nodes.start()
    for round_number in range(3):
        clients = [await nodes.connect([node_a, node_b][i % 2]) for i in range(30)]
        names = [f"r{round_number}u{i}" for i in range(len(clients))]
        known: list[set[str]] = [set() for _ in clients]

        async def login(index: int, known: list[set[str]] = known,
                        clients: list = clients, names: list[str] = names) -> None:
            known[index].update(await clients[index].login(names[index]))

        async with trio.open_nursery() as nursery:
            for index in range(len(clients)):
                nursery.start_soon(login, index)
        for index, client in enumerate(clients):
            while not known[index] >= set(names):
                line = await client.expect(starts("join "), timeout=3)
                known[index].update(line.split()[1:])
        for client in clients:
            assert await client.request("logout") == "ok logout"
