"""Nodes as an operator runs them: `python -m node ...` processes, real signals."""

import signal
import socket
import sys

import trio
from glide import GlideClient

from devcluster.processes import EPHEMERAL_RANGE, free_port
from devcluster.redis_server import RedisServer
from tests.support.clients import TcpClient, starts
from tests.support.processes import (
    NodeProcess,
    http_get,
    start_node_process,
)


async def test_two_node_processes_chat_and_sigterm_says_leave(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], redis: GlideClient) -> None:
    for node_id in ("p1", "p2"):
        node_processes.append(
            await start_node_process(nursery, redis_server.url, key_prefix, node_id))
    p1, p2 = node_processes
    status, body = await http_get(p1.http_port, "/healthz")
    assert (status, body) == (200, "ok p1 users=0\n")

    alice = await TcpClient.connect(p1.tcp_port)
    bob = await TcpClient.connect(p2.tcp_port)
    await alice.login("alice")
    assert await bob.login("bob") == ["alice", "bob"]
    assert await alice.request("userlist") == "ok userlist alice bob"
    assert await alice.request("msg bob psst") == "ok msg bob"
    assert await bob.expect(starts("msg ")) == "msg alice psst"
    assert await bob.request("msgall hi all") == "ok msgall"
    assert await alice.expect(starts("msgall ")) == "msgall bob hi all"
    users = await redis.hgetall(f"{key_prefix}:users")
    assert users == {b"alice": b"p1", b"bob": b"p2"}

    p2.signal(signal.SIGTERM)
    assert await p2.wait() == 0
    await alice.expect("leave bob")
    assert await redis.hgetall(f"{key_prefix}:users") == {b"alice": b"p1"}
    # Its own echo (read already, or still on the way), then why it ends, then the close.
    assert [*bob.skipped, *await bob.closed()] == ["msgall bob hi all", "bye shutdown"]


async def test_killed_node_is_reaped_by_a_survivor(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], redis: GlideClient) -> None:
    fast = ("--heartbeat-interval", "0.2", "--heartbeat-ttl", "1")
    survivor = await start_node_process(nursery, redis_server.url, key_prefix, "s1", *fast)
    victim = await start_node_process(nursery, redis_server.url, key_prefix, "v1", *fast)
    node_processes.extend([survivor, victim])
    watcher = await TcpClient.connect(survivor.tcp_port)
    await watcher.login("watcher")
    doomed = await TcpClient.connect(victim.tcp_port)
    await doomed.login("doomed")
    await watcher.expect("join doomed")

    victim.signal(signal.SIGKILL)  # no cleanup at all
    await victim.wait()
    await watcher.expect("leave doomed", timeout=10)
    assert await redis.hgetall(f"{key_prefix}:users") == {b"watcher": b"s1"}
    assert await redis.smembers(f"{key_prefix}:nodes") == {b"s1"}


async def test_restart_with_same_id_clears_stale_users(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], redis: GlideClient) -> None:
    first = await start_node_process(nursery, redis_server.url, key_prefix, "same")
    node_processes.append(first)
    ghost = await TcpClient.connect(first.tcp_port)
    await ghost.login("ghost")
    first.signal(signal.SIGKILL)
    await first.wait()
    assert await redis.hgetall(f"{key_prefix}:users") == {b"ghost": b"same"}

    second = await start_node_process(nursery, redis_server.url, key_prefix, "same")
    node_processes.append(second)
    assert await redis.hgetall(f"{key_prefix}:users") == {}
    again = await TcpClient.connect(second.tcp_port)
    assert await again.login("ghost") == ["ghost"]


async def test_unreachable_redis_is_a_clear_error(key_prefix: str) -> None:
    port = free_port()
    result = await trio.run_process(
        [sys.executable, "-m", "node", "--redis-url", f"redis://127.0.0.1:{port}",
         "--tcp-port", "0", "--http-port", "0", "--node-id", "lonely"],
        check=False, capture_stdout=True, capture_stderr=True)
    assert result.returncode != 0
    assert f"redis://127.0.0.1:{port}" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


async def test_healthz_turns_503_when_redis_goes_away(nursery: trio.Nursery, key_prefix: str,
                                                    node_processes: list[NodeProcess]) -> None:
    own_redis = RedisServer().start()
    try:
        node = await start_node_process(nursery, own_redis.url, key_prefix, "h1")
        node_processes.append(node)
        client = await TcpClient.connect(node.tcp_port)
        await client.login("hopeful")
        own_redis.stop()
        with trio.fail_after(10):
            while (await http_get(node.http_port, "/healthz"))[0] != 503:
                await trio.sleep(0.05)  # polling /healthz with a deadline
        reply = await client.request("msgall anyone?", timeout=10)
        assert reply == "error unavailable the chat store is unreachable; try again shortly"
        assert await client.request("whoami") == "ok whoami hopeful"
    finally:
        own_redis.stop()


async def test_a_redis_restart_heals_presence_and_messaging(
        nursery: trio.Nursery, key_prefix: str, node_processes: list[NodeProcess]) -> None:
    """Redis killed and restarted empty, nodes at their default heartbeat (5 s): each
    node notices at once, chat across nodes works again within 2 s of Redis accepting
    connections, the connected users are back in the registry by then, and nobody can
    take a connected user's name in between."""
    redis = RedisServer().start()
    try:
        for node_id in ("r1", "r2"):
            node_processes.append(await start_node_process(nursery, redis.url, key_prefix,
                                                          node_id))
        alice = await TcpClient.connect(node_processes[0].tcp_port)
        bob = await TcpClient.connect(node_processes[1].tcp_port)
        thief = await TcpClient.connect(node_processes[1].tcp_port)
        await alice.login("alice")
        await bob.login("bob")
        assert redis.process is not None
        redis.process.kill()  # SIGKILL, no persistence: the registry is gone for good
        redis.process.wait()
        redis = RedisServer(port=redis.port).start()  # returns once it answers PING
        back = trio.current_time()
        stolen: list[str] = []

        async def try_to_steal_alice() -> None:
            while True:  # as fast as the node answers, from the moment Redis is back
                reply = await thief.request("login ALICE")
                if reply.startswith("ok login"):
                    stolen.append(reply)
                    return

        async with trio.open_nursery() as thieves:
            thieves.start_soon(try_to_steal_alice)
            with trio.fail_after(2):  # chat across nodes, within 2 s of Redis being back
                attempt = 0
                while True:
                    attempt += 1
                    if await alice.request(f"msgall ping {attempt}") == "ok msgall":
                        with trio.move_on_after(0.2):
                            await bob.expect(f"msgall alice ping {attempt}")
                            break
                while await bob.request("userlist") != "ok userlist alice bob":
                    await trio.sleep(0.05)  # polling the registry with a deadline
            # Keep trying for the whole recovery window and beyond: never given away.
            with trio.move_on_after(3):
                await trio.sleep_forever()  # the thief's observation window
            thieves.cancel_scope.cancel()
        assert stolen == []
        assert trio.current_time() - back < 6
        assert await alice.request("msg bob you are back") == "ok msg bob"
        assert await bob.expect(starts("msg ")) == "msg alice you are back"
        assert await bob.request("msgall all good") == "ok msgall"
        await alice.expect("msgall bob all good")
        for node in node_processes:  # each node says it is whole again
            with trio.fail_after(10):
                while (await http_get(node.http_port, "/healthz"))[0] != 200:
                    await trio.sleep(0.1)  # polling /healthz with a deadline
    finally:
        redis.stop()


async def test_with_redis_frozen_every_command_fails_once_within_the_timeout(
        nursery: trio.Nursery, key_prefix: str, node_processes: list[NodeProcess]) -> None:
    """Redis stopped (SIGSTOP: connections stay open, nothing answers): each command
    gets exactly one reply, `error unavailable`, within --redis-timeout."""
    redis = RedisServer().start()
    assert redis.process is not None
    try:
        node = await start_node_process(nursery, redis.url, key_prefix, "frozen",
                                        "--redis-timeout", "0.5")
        node_processes.append(node)
        user = await TcpClient.connect(node.tcp_port)
        await user.login("user")
        newcomer = await TcpClient.connect(node.tcp_port)
        redis.process.send_signal(signal.SIGSTOP)
        try:
            for client, command in ((newcomer, "login newcomer"), (user, "msgall hello"),
                                    (user, "msg user hi"), (user, "userlist")):
                started = trio.current_time()
                reply = await client.request(command, timeout=5)
                assert reply.startswith("error unavailable"), (command, reply)
                assert trio.current_time() - started < 0.5 + 0.4, command
            assert await user.request("whoami") == "ok whoami user"  # answered locally
            # Exactly one reply each: nothing more arrives for the commands above.
            await newcomer.send("whoami")
            assert await newcomer.next_line() == "error not_logged_in log in first: login <name>"
        finally:
            redis.process.send_signal(signal.SIGCONT)
        with trio.fail_after(10):
            while (await newcomer.request("login newcomer")) != "ok login newcomer":
                await trio.sleep(0.1)  # retrying as a user would, with a deadline
    finally:
        redis.stop()


def test_ports_for_child_nodes_avoid_the_range_outgoing_connections_use() -> None:
    """An outgoing connection could take a port from the ephemeral range before the
    node binds it (a browser test's node once exited with 'address in use')."""
    ephemeral = range(32768, 61000)
    if EPHEMERAL_RANGE.exists():
        low, high = map(int, EPHEMERAL_RANGE.read_text().split())
        ephemeral = range(low, high + 1)
    ports = {free_port() for _ in range(20)}
    assert not ports & set(ephemeral)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # and they are free
