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
    redis = RedisServer().start()
    try:
        fast = ("--heartbeat-interval", "0.2", "--heartbeat-ttl", "1")
        for node_id in ("r1", "r2"):
            node_processes.append(await start_node_process(nursery, redis.url, key_prefix,
                                                      node_id, *fast))
        alice = await TcpClient.connect(node_processes[0].tcp_port)
        bob = await TcpClient.connect(node_processes[1].tcp_port)
        await alice.login("alice")
        await bob.login("bob")
        redis.stop()  # no persistence: the registry is gone for good
        redis = RedisServer(port=redis.port).start()
        # Healing as users see it: glide reconnects (commands first, subscriptions a few
        # seconds later; pub/sub in between is lost), heartbeats re-register the users.
        attempt = 0
        with trio.fail_after(30):
            while True:
                attempt += 1
                if await alice.request(f"msgall ping {attempt}", timeout=10) == "ok msgall":
                    with trio.move_on_after(1):
                        await bob.expect(f"msgall alice ping {attempt}")
                        break
        for node in node_processes:  # each node says it is whole again once it hears itself
            with trio.fail_after(20):
                while (await http_get(node.http_port, "/healthz"))[0] != 200:
                    await trio.sleep(0.1)  # polling /healthz with a deadline
        assert await alice.request("userlist") == "ok userlist alice bob"
        assert await alice.request("msg bob you are back") == "ok msg bob"
        assert await bob.expect(starts("msg ")) == "msg alice you are back"
        assert await bob.request("msgall all good") == "ok msgall"
        await alice.expect("msgall bob all good")
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
