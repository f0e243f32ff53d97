"""A node process started with `--log-format json` writes its whole log to stderr as
one JSON object per line, with the user where there is one."""

import json
import signal
from pathlib import Path

import trio

from devcluster.redis_server import RedisServer
from tests.support.clients import TcpClient
from tests.support.processes import NodeProcess, start_node_process


async def test_a_node_started_with_log_format_json_writes_json_lines(
        nursery: trio.Nursery, redis_server: RedisServer, key_prefix: str,
        node_processes: list[NodeProcess], tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    with log.open("wb") as stderr:
        node = await start_node_process(nursery, redis_server.url, key_prefix, "j1",
                                        "--log-format", "json", stderr=stderr)
    node_processes.append(node)
    alice = await TcpClient.connect(node.tcp_port)
    await alice.login("alice")
    assert await alice.request("logout") == "ok logout"
    node.signal(signal.SIGTERM)
    assert await node.wait() == 0

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries, "the node wrote no log"
    assert {entry["node"] for entry in entries} == {"j1"}
    assert all({"time", "level", "logger", "event"} <= entry.keys() for entry in entries)
    events = [(entry["event"], entry.get("user")) for entry in entries]
    assert any(event.endswith("logged in as alice") and user == "alice"
               for event, user in events), events
    assert any(event.startswith("node j1 ready") for event, _ in events), events
