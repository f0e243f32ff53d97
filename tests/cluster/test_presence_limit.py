"""Beyond --presence-limit users online cluster-wide, nodes send a count instead of
names: newcomers get `online <n>`, nobody gets `join`/`leave`, `userlist` pages; back at
the limit everyone gets a fresh `users` line and joins resume."""

import trio

from node.names import sort_names
from tests.support.clients import LineClient, joined
from tests.support.nodes import NodeRunner, RunningNode

FAST = {"presence_limit": 3, "heartbeat_interval": 0.1, "heartbeat_ttl": 1.0}


async def _log_in(nodes: NodeRunner, node_list: list[RunningNode],
                  names: list[str]) -> list[LineClient]:
    clients = []
    for index, name in enumerate(names):
        client = await nodes.connect(node_list[index % len(node_list)],
                                     "tcp" if index % 2 else "ws")
        assert await client.request(f"login {name}") == f"ok login {name}"
        clients.append(client)
    return clients


async def test_past_the_limit_names_give_way_to_a_count_and_come_back(nodes: NodeRunner) -> None:
    node_a, node_b = await nodes.start(**FAST), await nodes.start(**FAST)
    a, b, c = await _log_in(nodes, [node_a, node_b], ["a", "b", "c"])
    assert await c.next_line() == "users a b c"  # up to the limit: as always
    await a.expect(joined("c"))
    # The 4th: a count instead of names, for the newcomer and for everyone else.
    d = await nodes.connect(node_b, "tcp")
    assert await d.request("login d") == "ok login d"
    assert await d.next_line() == "online 4"
    for client in (a, b, c):
        await client.expect("online 4")
    e = await nodes.connect(node_a, "ws")
    assert await e.request("login e") == "ok login e"
    assert await e.next_line() == "online 5"
    await a.expect("online 5", timeout=5)  # refreshed by the next liveness round
    assert not [line for line in (*a.skipped, *b.skipped)
                if line.startswith(("join d", "join e"))]
    # userlist pages by the limit: "+2" more, then the page after "c".
    assert await a.request("userlist") == "ok userlist a b c +2"
    assert await a.request("userlist c") == "ok userlist d e"
    # Back to the limit: a fresh list for everyone, then joins again.
    for client in (d, e):
        assert await client.request("logout") == "ok logout"
    for client in (a, b, c):
        await client.expect("users a b c", timeout=5)
    f_client = await nodes.connect(node_b, "tcp")
    await c.request("logout")
    await f_client.login("f")
    # a learns of f: by `join f`, or (if f's login briefly made 4 with c not yet gone)
    # by the fresh `users` line that follows the count.
    await a.expect(lambda line: line == "join f" or (line.startswith("users ")
                                                      and "f" in line.split()[1:]), timeout=5)
    with trio.fail_after(5):
        while await a.request("userlist") != "ok userlist a b f":
            await trio.sleep(0.05)  # c's release follows its `ok logout`: poll, with a deadline


async def test_a_login_storm_past_the_limit_sends_no_join_to_anyone(nodes: NodeRunner) -> None:
    node = await nodes.start(presence_limit=5)
    watcher = await nodes.connect(node, "tcp")
    await watcher.login("watcher")
    storm: list[LineClient] = []

    async def log_in(index: int) -> None:
        client = await nodes.connect(node, "tcp")
        storm.append(client)
        assert (await client.request(f"login s{index}")) == f"ok login s{index}"

    async with trio.open_nursery() as nursery:
        for index in range(40):
            nursery.start_soon(log_in, index)
    assert await watcher.request("whoami") == "ok whoami watcher"
    joined = [name for line in watcher.skipped if line.startswith("join ")
              for name in line.split()[1:]]
    assert len(joined) <= 5  # at most those before the limit; never one per login
    assert any(line.startswith("online ") for line in watcher.skipped)
    everyone = sort_names(["watcher", *(f"s{index}" for index in range(40))])
    assert await watcher.request("userlist") == f"ok userlist {' '.join(everyone[:5])} +36"
    assert await watcher.request(f"userlist {everyone[-2]}") == "ok userlist watcher"
    for client in storm:
        line = await client.expect(lambda line: line.startswith(("users ", "online ")))
        assert line.startswith("online ") or len(line.split()) <= 6
