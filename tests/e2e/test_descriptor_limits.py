"""A node under a small open-files limit (``ulimit -n 256``), flooded with sockets that
never log in: it caps its connections below the limit, turns the rest away with one
line, keeps answering /healthz, and if descriptors run out anyway it backs off and
warns once per interval instead of logging a traceback storm."""

from pathlib import Path

import trio

from devcluster.redis_server import RedisServer
from node.config import FD_HEADROOM
from tests.support.clients import TcpClient
from tests.support.processes import NodeProcess, http_get, start_node_process

OPEN_FILES = 256


async def _connect_many(port: int, count: int) -> list[TcpClient]:
    return [await TcpClient.connect(port) for _ in range(count)]


async def _start_limited(nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
                         node_id: str, log_path: Path, *extra: str) -> NodeProcess:
    """A node process under ``ulimit -n OPEN_FILES``, its log in ``log_path``."""
    with log_path.open("wb") as log:
        return await start_node_process(nursery, redis_server.url, key_prefix, node_id, *extra,
                                        stderr=log, open_files=OPEN_FILES)


async def test_the_default_cap_keeps_a_node_under_its_open_files_limit_responsive(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], tmp_path: Path) -> None:
    log_path = tmp_path / "node.log"
    node = await _start_limited(nursery, redis_server, key_prefix, "capped", log_path)
    node_processes.append(node)
    cap = OPEN_FILES - FD_HEADROOM
    flood = await _connect_many(node.tcp_port, cap + 72)
    # The first `cap` are served (they may log in); the rest are told and closed.
    for client in flood[:cap]:
        assert (await client.request("whoami")).startswith("error not_logged_in")
    for client in flood[cap:]:
        assert await client.closed() == ["bye server_full"]
    status, body = await http_get(node.http_port, "/healthz")
    assert (status, body) == (503, f"full ({cap} connections)\n")
    for client in flood:
        await client.close()
    with trio.fail_after(10):
        while (await http_get(node.http_port, "/healthz"))[0] != 200:
            await trio.sleep(0.05)  # polling /healthz with a deadline
    user = await TcpClient.connect(node.tcp_port)
    assert await user.login("after") == ["after"]
    log_text = log_path.read_text()
    assert "Traceback" not in log_text
    assert "Too many open files" not in log_text
    assert log_text.count("turning clients away") == 1  # once per interval, not per client


async def test_out_of_descriptors_the_node_backs_off_and_warns_once(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], tmp_path: Path) -> None:
    log_path = tmp_path / "node.log"
    # A cap above what the limit allows: the operator's mistake we must survive.
    node = await _start_limited(nursery, redis_server, key_prefix, "starved", log_path,
                                "--max-connections", "5000")
    node_processes.append(node)
    flood = await _connect_many(node.tcp_port, OPEN_FILES + 50)  # some wait in the backlog
    with trio.fail_after(10):
        while "cannot accept connections" not in log_path.read_text():
            await trio.sleep(0.05)  # polling the log with a deadline
    # Starved for a while: trio's own loop would log ten tracebacks a second here.
    await trio.sleep(1.5)  # an observation window, not a synchronisation
    log_text = log_path.read_text()
    assert log_text.count("cannot accept connections") == 1
    assert "Traceback" not in log_text
    for client in flood:
        await client.close()
    user = await TcpClient.connect(node.tcp_port)
    assert await user.login("survivor") == ["survivor"]
