"""A node paused (SIGSTOP) past its lease: the survivors reap its users and one of
their names is claimed again elsewhere. When the node wakes (SIGCONT), nothing its
old session sent is delivered under that name, the old holder is told `bye
name_taken`, and the users it still serves are put back without hearing their own
`leave`."""

import signal

import trio

from devcluster.redis_server import RedisServer
from tests.support.clients import TcpClient, joined, starts
from tests.support.processes import NodeProcess, start_node_process

FAST = ("--heartbeat-interval", "0.2", "--heartbeat-ttl", "1")


async def test_a_paused_nodes_session_never_speaks_under_a_reclaimed_name(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess]) -> None:
    for index in (1, 2, 3):
        node_processes.append(await start_node_process(
            nursery, redis_server.url, key_prefix, f"pause-{index}", *FAST))
    first, _, paused = node_processes
    watcher = await TcpClient.connect(first.tcp_port)
    await watcher.login("watcher")
    old = await TcpClient.connect(paused.tcp_port)
    await old.login("s0")
    mate = await TcpClient.connect(paused.tcp_port)
    await mate.login("mate")
    await watcher.expect(joined("mate"))

    paused.signal(signal.SIGSTOP)
    try:
        gone: set[str] = set()
        while gone != {"s0", "mate"}:  # the survivors reap the silent node
            gone.update((await watcher.expect(starts("leave "), timeout=10)).split()[1:])
        usurper = await TcpClient.connect(first.tcp_port)
        await usurper.login("s0")
        # Queued in the paused node's socket: it reads them as soon as it wakes.
        await old.send("msgall I am still s0")
        await old.send("msg watcher psst, it is s0")
    finally:
        paused.signal(signal.SIGCONT)

    # The old holder is told why and closed; none of its commands got an answer.
    old_lines = [*old.skipped, *await old.closed(timeout=10)]
    assert old_lines[-1] == "bye name_taken", old_lines
    assert not [line for line in old_lines if line.startswith(("ok ", "error "))], old_lines
    # Its node-mate keeps its name; everyone sees it come back.
    await watcher.expect(joined("mate"), timeout=10)
    # A marker sent after the wake-up, on the node that woke: Redis orders it after
    # anything that node published earlier, so whatever the old session got through
    # would have arrived before it.
    assert await mate.request("msgall marker") == "ok msgall"
    for client in (watcher, usurper):
        await client.expect("msgall mate marker")
        spoken = [line for line in client.skipped if line.startswith(("msg s0 ", "msgall s0 "))]
        assert spoken == [], spoken
    # Nobody is told of their own leave, not even while the node catches up.
    assert not [line for line in mate.skipped
                if line.startswith("leave ") and "mate" in line.split()[1:]], mate.skipped
    assert await usurper.request("whoami") == "ok whoami s0"
    assert await usurper.request("userlist") == "ok userlist mate s0 watcher"
