"""The load balancer of docker-compose.yml, deploy/haproxy/haproxy.cfg, checked by the real
``haproxy`` and run for real on loopback in front of three ``python -m node`` processes.

The config file is the single source: its ``"${NAME-default}"`` variables default to the
compose values, and here they point the same file at loopback ports, with fast checks.
"""

import csv
import functools
import io
import os
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import trio
from glide import GlideClient

from devcluster.processes import free_port
from devcluster.redis_server import RedisServer
from tests.support.clients import TcpClient, WsClient, starts
from tests.support.processes import NodeProcess, http_get, start_node_process
from tests.support.raw_ws import RawWebSocket

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
NODE_IDS = ("node-1", "node-2", "node-3")  # the server names in the config
BACKENDS = ("chat_nodes_tcp", "chat_nodes_http")


def _haproxy() -> str:
    found = shutil.which("haproxy")
    if found is None:
        pytest.skip("SKIPPED LOUDLY: no `haproxy` on PATH, so the load balancer config is not "
                    "checked; install Debian's haproxy package (`python3 dev.py test` does)")
    return found


@dataclass
class Balancer:
    process: trio.Process
    tcp_port: int
    http_port: int
    stats_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def loopback_environment(node_ports: list[tuple[int, int]], interval: str = "100ms"
                         ) -> dict[str, str]:
    """The variables that put haproxy.cfg on loopback, in front of nodes listening on
    these (TCP, HTTP) ports."""
    env = {"LB_BIND": "127.0.0.1", "LB_TCP_PORT": str(free_port()),
           "LB_HTTP_PORT": str(free_port()), "LB_STATS_PORT": str(free_port()),
           "CHECK_INTERVAL": interval, "DNS_SERVER": "127.0.0.1"}
    for number, (tcp_port, http_port) in enumerate(node_ports, start=1):
        env |= {f"NODE_{number}_HOST": "127.0.0.1", f"NODE_{number}_TCP_PORT": str(tcp_port),
                f"NODE_{number}_HTTP_PORT": str(http_port)}
    return env


def check_config(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_haproxy(), "-c", *flags, "-f", str(CONFIG)],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=30)


def test_config_as_compose_mounts_it_is_valid() -> None:
    result = check_config({})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
    # Outside compose the node names do not resolve; the servers wait for DNS instead
    # of haproxy refusing to start ("init-addr ... none").
    assert "resolve" in result.stderr and "'node-1'" in result.stderr


def test_loopback_variant_is_valid_without_a_single_warning() -> None:
    ports = [(free_port(), free_port()) for _ in NODE_IDS]
    result = check_config(loopback_environment(ports), "-dW")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_config_is_rejected(tmp_path: Path) -> None:
    """The check above can fail: the same haproxy rejects a config with a typo."""
    broken = tmp_path / "haproxy.cfg"
    broken.write_text(CONFIG.read_text().replace("balance leastconn", "balance fastest", 1))
    result = subprocess.run([_haproxy(), "-c", "-f", str(broken)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0


def _stats_csv(port: int) -> str:
    # urllib, as HAProxy's stats page answers even HTTP/1.0 requests in chunks.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/;csv", timeout=2) as answer:
        return answer.read().decode()


async def server_states(balancer: Balancer) -> dict[tuple[str, str], str]:
    """(backend, server) -> status (UP, DOWN, ...) from HAProxy's own stats page."""
    body = await trio.to_thread.run_sync(_stats_csv, balancer.stats_port)
    rows = csv.DictReader(io.StringIO(body.removeprefix("# ")))
    return {(row["pxname"], row["svname"]): row["status"] for row in rows
            if row["pxname"] in BACKENDS and row["svname"] in NODE_IDS}


async def wait_states(balancer: Balancer, wanted: dict[str, str], timeout: float = 10) -> None:
    """Until every node in ``wanted`` has that status in both backends."""
    expected = {(backend, node): state for backend in BACKENDS
                for node, state in wanted.items()}
    states: dict[tuple[str, str], str] = {}
    try:
        with trio.fail_after(timeout):
            while True:
                if balancer.process.returncode is not None:
                    raise AssertionError(f"haproxy exited: {balancer.output()}")
                try:
                    states = await server_states(balancer)
                except OSError:
                    states = {}
                if all(states.get(key) == state for key, state in expected.items()):
                    return
                await trio.sleep(0.05)  # polling haproxy's stats with a deadline
    except trio.TooSlowError:
        raise AssertionError(f"wanted {wanted}, haproxy says {states}") from None


@pytest.fixture
def balancer_log(tmp_path: Path) -> Iterator[IO[bytes]]:
    with (tmp_path / "haproxy.log").open("wb") as log:
        yield log


StartBalancer = Callable[[list[NodeProcess]], Awaitable[Balancer]]


@pytest.fixture
async def start_balancer(nursery: trio.Nursery, balancer_log: IO[bytes]
                         ) -> AsyncIterator[StartBalancer]:
    haproxy = _haproxy()
    started: list[Balancer] = []

    async def start(nodes: list[NodeProcess]) -> Balancer:
        env = loopback_environment([(node.tcp_port, node.http_port) for node in nodes])
        process = await nursery.start(functools.partial(
            trio.run_process, [haproxy, "-db", "-f", str(CONFIG)], check=False,
            env={**os.environ, **env}, stdout=balancer_log, stderr=subprocess.STDOUT))
        balancer = Balancer(process, int(env["LB_TCP_PORT"]), int(env["LB_HTTP_PORT"]),
                            int(env["LB_STATS_PORT"]), Path(balancer_log.name))
        started.append(balancer)
        await wait_states(balancer, dict.fromkeys(NODE_IDS, "UP"))
        return balancer

    yield start
    for balancer in started:  # stopped by PID: SIGTERM, then SIGKILL if it lingers
        if balancer.process.returncode is None:
            balancer.process.terminate()
            with trio.move_on_after(5):
                await balancer.process.wait()
            if balancer.process.returncode is None:
                balancer.process.kill()


async def start_nodes(nursery: trio.Nursery, node_processes: list[NodeProcess],
                      redis_urls: list[str], key_prefix: str) -> list[NodeProcess]:
    async def start(node_id: str, redis_url: str) -> None:
        node_processes.append(await start_node_process(nursery, redis_url, key_prefix, node_id))

    async with trio.open_nursery() as starting:
        for node_id, redis_url in zip(NODE_IDS, redis_urls, strict=True):
            starting.start_soon(start, node_id, redis_url)
    return sorted(node_processes, key=lambda node: node.node_id)


async def log_in_through(balancer: Balancer, names: list[str]) -> dict[str, TcpClient]:
    clients = {}
    for name in names:  # one after another, so "least connections" sees each one
        clients[name] = await TcpClient.connect(balancer.tcp_port)
        await clients[name].login(name)
    return clients


async def holders(redis: GlideClient, key_prefix: str, names: list[str]) -> dict[str, str]:
    """name -> node id, from the registry, as an operator would look (HGETALL)."""
    users = await redis.hgetall(f"{key_prefix}:users")
    found = {key.decode(): value.decode() for key, value in users.items()}
    assert set(names) <= set(found), f"not all of {names} registered: {found}"
    return {name: found[name] for name in names}


async def check_the_http_port(nursery: trio.Nursery, balancer: Balancer,
                              listener: TcpClient) -> None:
    """The page, /healthz and a WebSocket chat, all through the balancer's HTTP port."""
    status, page = await http_get(balancer.http_port, "/")
    assert status == 200 and "<html" in page.lower(), page[:200]
    status, health = await http_get(balancer.http_port, "/healthz")
    assert status == 200 and health.startswith("ok node-"), health
    # A browser on the page served through the balancer says so in Origin: allowed out
    # of the box (the balancer keeps the Host header); a page elsewhere is refused.
    page_origin = f"http://127.0.0.1:{balancer.http_port}"
    browser = await WsClient.connect(nursery, balancer.http_port, origin=page_origin)
    foreign, status = await RawWebSocket.handshake(balancer.http_port, "http://evil.example")
    await foreign.close()
    assert status == 403
    await browser.login("webuser")
    assert await browser.request("msgall from the page") == "ok msgall"
    assert await listener.expect(starts("msgall ")) == "msgall webuser from the page"


async def test_balancer_spreads_clients_who_chat_and_skips_a_stopped_node(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        redis: GlideClient, node_processes: list[NodeProcess],
        start_balancer: StartBalancer) -> None:
    nodes = await start_nodes(nursery, node_processes, [redis_server.url] * 3, key_prefix)
    balancer = await start_balancer(nodes)

    first = [f"user{i}" for i in range(6)]
    clients = await log_in_through(balancer, first)
    placed = await holders(redis, key_prefix, first)
    assert set(placed.values()) == set(NODE_IDS), f"not spread over all nodes: {placed}"

    sender, receiver = next((a, b) for a in first for b in first if placed[a] != placed[b])
    assert await clients[sender].request(f"msg {receiver} across nodes") == f"ok msg {receiver}"
    assert await clients[receiver].expect(starts("msg ")) == f"msg {sender} across nodes"
    assert await clients[sender].request("msgall hello all") == "ok msgall"
    for client in clients.values():
        assert await client.expect(starts("msgall ")) == f"msgall {sender} hello all"

    await check_the_http_port(nursery, balancer, listener=clients[receiver])

    stopped = nodes[1]
    stopped.signal(signal.SIGTERM)
    assert await stopped.wait() == 0
    watcher = clients[next(name for name in first if placed[name] != stopped.node_id)]
    gone = {name for name in first if placed[name] == stopped.node_id}
    left: set[str] = set()
    while not gone <= left:
        left.update((await watcher.expect(starts("leave "))).split()[1:])
    await wait_states(balancer, {stopped.node_id: "DOWN", nodes[0].node_id: "UP",
                                 nodes[2].node_id: "UP"})

    later = [f"late{i}" for i in range(6)]
    late_clients = await log_in_through(balancer, later)
    placed_later = await holders(redis, key_prefix, later)
    assert set(placed_later.values()) == {nodes[0].node_id, nodes[2].node_id}, placed_later
    assert await late_clients["late0"].request("msgall still here") == "ok msgall"
    assert await watcher.expect(starts("msgall late0")) == "msgall late0 still here"


async def test_balancer_drops_a_node_whose_healthz_fails_though_its_ports_accept(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        redis: GlideClient, node_processes: list[NodeProcess],
        start_balancer: StartBalancer) -> None:
    """The TCP backend follows /healthz on the HTTP port, not just "the port accepts"."""
    own_redis = RedisServer().start()
    try:
        nodes = await start_nodes(nursery, node_processes,
                                  [redis_server.url, redis_server.url, own_redis.url],
                                  key_prefix)
        balancer = await start_balancer(nodes)
        own_redis.stop()  # node-3 keeps running and listening, but answers 503
        await wait_states(balancer, {"node-1": "UP", "node-2": "UP", "node-3": "DOWN"})
        status, body = await http_get(nodes[2].http_port, "/healthz")
        assert (status, body) == (503, "redis unreachable\n")
        direct = await TcpClient.connect(nodes[2].tcp_port)  # still accepts connections
        await direct.close()

        names = [f"user{i}" for i in range(4)]
        clients = await log_in_through(balancer, names)
        placed = await holders(redis, key_prefix, names)
        assert set(placed.values()) == {"node-1", "node-2"}, placed
        assert await clients["user0"].request("userlist") == f"ok userlist {' '.join(names)}"
    finally:
        own_redis.stop()
