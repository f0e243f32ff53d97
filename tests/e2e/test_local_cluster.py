"""`python -m devcluster` (what `python3 dev.py cluster` runs): Redis plus three
nodes on fixed, printed ports; two line clients on two nodes chat; Ctrl-C (or SIGTERM,
what ``kill PID`` sends) stops all: the nodes first, so they can deregister, then Redis."""

import functools
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trio

from devcluster import state_file
from devcluster.redis_server import RedisServer, ping
from node import envelope
from node.keys import Keys
from tests.support.clients import TcpClient, starts
from tests.support.processes import http_get

KEY_PREFIX = "devtest"
ROOT = Path(__file__).resolve().parents[2]


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(50):
        base = random.randrange(20000, 60000)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no run of free ports")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def process_group(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[2])


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class DevCluster:
    """A running ``python -m devcluster``, everything it printed, and its children."""

    def __init__(self, process: trio.Process, tcp: int, http: int, redis_port: int,
                 state_file: Path) -> None:
        self.process = process
        self.tcp, self.http, self.redis_port = tcp, http, redis_port
        self.state_file = state_file
        self.printed = b""
        self.output_ended = trio.Event()
        self.children: list[int] = []

    @property
    def text(self) -> str:
        return self.printed.decode(errors="replace")

    async def read_until_ready(self, timeout: float = 30) -> None:
        with trio.fail_after(timeout):
            while b"Ctrl-C stops everything" not in self.printed:
                chunk = await self.process.stdout.receive_some(65536)
                assert chunk, f"devcluster ended early: {self.text}"
                self.printed += chunk
        self.children = children_of(self.process.pid)

    async def collect(self) -> None:
        """Keep reading (the nodes' log pipe must not fill up) until every writer closed."""
        while chunk := await self.process.stdout.receive_some(65536):
            self.printed += chunk
        self.output_ended.set()

    async def wait(self, timeout: float = 20) -> int:
        with trio.fail_after(timeout):
            return await self.process.wait()

    def kill_leftovers(self) -> None:
        """After the test: nothing it started may outlive it, whatever went wrong."""
        for pid in [self.process.pid, *self.children]:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


StartDevCluster = Callable[..., Awaitable[DevCluster]]


def devcluster_env(state_file: Path) -> dict[str, str]:
    """No REDIS_URL (devcluster starts its own Redis), and a record of that Redis of
    the test's own, never the one of a cluster a developer runs meanwhile."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    return env | {"DEVCLUSTER_STATE_FILE": str(state_file)}


@pytest.fixture
async def start_devcluster(nursery: trio.Nursery,
                           tmp_path: Path) -> AsyncIterator[StartDevCluster]:
    started: list[DevCluster] = []

    async def start(*args: str, nodes: int = 3, new_session: bool = False) -> DevCluster:
        tcp, http, redis_port = _free_run(nodes), _free_run(nodes), _free_run(1)
        state_file = tmp_path / f"devcluster-{len(started)}.json"
        env = devcluster_env(state_file)
        command = [sys.executable, "-m", "devcluster", "--nodes", str(nodes),
                   "--tcp-port", str(tcp), "--http-port", str(http),
                   "--redis-port", str(redis_port), "--key-prefix", KEY_PREFIX, *args]
        process: trio.Process = await nursery.start(functools.partial(
            trio.run_process, command, check=False, env=env, start_new_session=new_session,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        cluster = DevCluster(process, tcp, http, redis_port, state_file)
        started.append(cluster)
        await cluster.read_until_ready()
        nursery.start_soon(cluster.collect)
        return cluster

    yield start
    for cluster in started:
        cluster.kill_leftovers()


async def chat_across_two_nodes(tcp_a: int, tcp_b: int) -> tuple[TcpClient, TcpClient]:
    """alice and bob log in on two nodes and chat; they stay connected."""
    alice = await TcpClient.connect(tcp_a)
    bob = await TcpClient.connect(tcp_b)
    await alice.login("alice")
    assert await bob.login("bob") == ["alice", "bob"]
    assert await alice.request("userlist") == "ok userlist alice bob"
    assert await bob.request("msg alice over here") == "ok msg alice"
    assert await alice.expect(starts("msg ")) == "msg bob over here"
    assert await alice.request("msgall hi") == "ok msgall"
    assert await bob.expect(starts("msgall ")) == "msgall alice hi"
    return alice, bob


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
async def test_local_cluster_runs_chats_and_stops_on_a_signal(
        start_devcluster: StartDevCluster, stop_signal: signal.Signals) -> None:
    cluster = await start_devcluster()
    tcp, http = cluster.tcp, cluster.http
    try:
        for index in range(3):
            assert f"node-{index + 1}: nc 127.0.0.1 {tcp + index}" in cluster.text
            assert (await http_get(http + index, "/healthz"))[0] == 200
        await chat_across_two_nodes(tcp, tcp + 2)
    finally:
        cluster.process.send_signal(stop_signal)
        code = await cluster.wait()
    assert code == 0
    assert not ping(cluster.redis_port)
    for index in range(3):
        with trio.move_on_after(1):
            try:
                await http_get(http + index, "/healthz")
                raise AssertionError(f"node-{index + 1} still answers after {stop_signal.name}")
            except OSError:
                pass


def bulk_strings(data: bytes) -> list[bytes]:
    """The bulk strings in a stream of RESP replies, in order (enough for pub/sub)."""
    strings, at = [], 0
    while at < len(data):
        end = data.index(b"\r\n", at)
        kind, value, at = data[at:at + 1], data[at + 1:end], end + 2
        if kind == b"$" and int(value) >= 0:
            strings.append(data[at:at + int(value)])
            at += int(value) + 2
    return strings


async def listen_until_redis_stops(port: int, channel: str, heard: list[bytes], *,
                                   task_status: trio.TaskStatus[None]) -> None:
    """Subscribe to ``channel`` over a bare socket; collect the published payloads
    until Redis closes the connection (it stopped)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(f"SUBSCRIBE {channel}\r\n".encode())
        data = b""
        while not data.endswith(b":1\r\n"):  # the subscription is confirmed
            data += await stream.receive_some(65536)
        task_status.started()
        try:
            while chunk := await stream.receive_some(65536):
                data += chunk
        except trio.BrokenResourceError:
            pass
    strings = bulk_strings(data)
    heard.extend(strings[i + 2] for i, kind in enumerate(strings) if kind == b"message")


def left(payloads: list[bytes]) -> set[str]:
    """The names announced as ``leave`` in broadcast envelopes."""
    names: set[str] = set()
    for payload in payloads:
        decoded = envelope.decode(payload)
        if isinstance(decoded, envelope.Presence) and decoded.kind == "leave":
            names.update(decoded.names)
    return names


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGQUIT, signal.SIGHUP],
                         ids=["ctrl-c", "ctrl-backslash", "terminal-closed"])
async def test_a_terminal_signal_reaches_devcluster_alone_which_stops_nodes_then_redis(
        start_devcluster: StartDevCluster, nursery: trio.Nursery,
        stop_signal: signal.Signals) -> None:
    # A shell runs a command as a job in its own process group. A terminal sends
    # Ctrl-C's SIGINT (Ctrl-\'s SIGQUIT) to that whole group; when the terminal closes,
    # the shell sends SIGHUP to each of its jobs' groups.
    cluster = await start_devcluster(nodes=2, new_session=True)
    group = cluster.process.pid
    children = cluster.children
    assert len(children) == 3, f"expected Redis and 2 nodes, found {children}"
    groups = {pid: process_group(pid) for pid in children}
    heard: list[bytes] = []
    redis_closed = trio.Event()

    async def listen(*, task_status: trio.TaskStatus[None]) -> None:
        await listen_until_redis_stops(cluster.redis_port, Keys(KEY_PREFIX).broadcast_channel,
                                       heard, task_status=task_status)
        redis_closed.set()

    await nursery.start(listen)
    alice, bob = await chat_across_two_nodes(cluster.tcp, cluster.tcp + 1)

    os.killpg(group, stop_signal)
    assert await cluster.wait() == 0
    assert [pid for pid in children if running(pid)] == []
    with trio.fail_after(10):
        await cluster.output_ended.wait()
        await redis_closed.wait()
    assert not ping(cluster.redis_port)
    shown = cluster.text
    assert "could not deregister" not in shown, shown
    assert "\x1b[" not in shown, shown  # the Redis client's coloured errors
    assert "Traceback" not in shown, shown
    for client in (alice, bob):  # connected until their node stopped
        await client.closed()
    # Each node removed its users from Redis before Redis stopped, and said so.
    assert left(heard) == {"alice", "bob"}
    # The children are out of the terminal's reach: they stop when devcluster says so.
    assert [pid for pid, pgrp in groups.items() if pgrp == group] == []


async def dev_py_redis_cli(env: dict[str, str], *args: str) -> list[str]:
    """``python3 dev.py redis-cli ARGS``, as a developer types it; its output lines."""
    result = await trio.run_process(
        [sys.executable, str(ROOT / "dev.py"), "redis-cli", *args], env=env, check=False,
        capture_stdout=True, capture_stderr=True)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().splitlines()


async def test_dev_py_redis_cli_dials_the_redis_the_running_cluster_started(
        start_devcluster: StartDevCluster, redis_server: RedisServer) -> None:
    cluster = await start_devcluster(nodes=1)
    env = devcluster_env(cluster.state_file)  # another terminal: no REDIS_URL either
    assert await dev_py_redis_cli(env, "PING") == ["PONG"]
    assert await dev_py_redis_cli(env, "CONFIG", "GET", "port") == [
        "port", str(cluster.redis_port)]
    # A server the user names wins.
    assert await dev_py_redis_cli(env, "-p", str(redis_server.port), "CONFIG", "GET",
                                  "port") == ["port", str(redis_server.port)]

    cluster.process.send_signal(signal.SIGTERM)
    assert await cluster.wait() == 0
    assert not cluster.state_file.exists()


async def test_dev_py_redis_cli_without_a_running_cluster_dials_REDIS_URL(
        redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "devcluster.json"
    env = devcluster_env(record) | {"REDIS_URL": redis_server.url}
    assert await dev_py_redis_cli(env, "CONFIG", "GET", "port") == [
        "port", str(redis_server.port)]
    # The record of a cluster killed outright (SIGKILL), whose Redis is gone too.
    gone = subprocess.Popen(["true"])
    gone.wait()
    monkeypatch.setenv("DEVCLUSTER_STATE_FILE", str(record))
    state_file.record("redis://127.0.0.1:1", gone.pid)
    assert record.exists()
    assert await dev_py_redis_cli(env, "CONFIG", "GET", "port") == [
        "port", str(redis_server.port)]
