"""The deployment docs tell the truth: the redis-cli commands they give run against real
nodes and show what the text says, the ports they name are the ones compose publishes,
and their links lead to files that exist."""

import re
import shlex
from pathlib import Path

import trio
import yaml

from devcluster.redis_server import RedisServer, find_cli_binary
from node.cli import SETTINGS
from tests.support.clients import TcpClient
from tests.support.nodes import NodeRunner

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEPLOY_README = ROOT / "deploy" / "README.md"
EXEC = "docker compose exec redis redis-cli "


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def documented_redis_commands() -> list[list[str]]:
    lines = [line.split("#")[0].strip() for block in code_blocks(README.read_text(), "sh")
             for line in block.splitlines()]
    return [shlex.split(line.removeprefix(EXEC)) for line in lines if line.startswith(EXEC)]


def published_host_ports() -> set[int]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    ports = set()
    for service in services.values():
        for mapping in service.get("ports", []):
            host_side = re.sub(r"\$\{[A-Z_]+:-(\d+)\}", r"\1", mapping).rsplit(":", 1)[0]
            ports.add(int(host_side.rsplit(":", 1)[-1]))
    return ports


def test_architecture_is_a_mermaid_picture_from_clients_to_redis() -> None:
    [diagram] = code_blocks(README.read_text(), "mermaid")
    assert diagram.startswith("flowchart")
    for part in ("nc", "browser", "HAProxy", "node-1", "node-2", "node-3", "Redis",
                 "TCP 10000", "HTTP 8080", "/healthz"):
        assert part in diagram, part
    assert diagram.count("<--> redis") == 3


def test_quickstart_names_only_ports_that_compose_publishes() -> None:
    text = README.read_text()
    for step in ("docker compose up", "nc localhost 10000", "http://localhost:8080/"):
        assert step in text, step
    named = {int(port) for port in re.findall(r"localhost[: ](\d{4,5})\b", text)}
    assert named and named <= published_host_ports(), named - published_host_ports()
    rows = re.findall(r"^\| node-(\d), on purpose +\| (\d+) +\| (\d+) +\|$", text, re.MULTILINE)
    assert [(int(n), int(tcp), int(http)) for n, tcp, http in rows] == \
        [(n, 10000 + n, 8080 + n) for n in (1, 2, 3)]


def test_monitor_comes_with_its_warning_and_is_never_a_copy_paste_line() -> None:
    text = README.read_text()
    assert "redis-cli MONITOR" in text and "only briefly" in text
    assert all(command[0] != "MONITOR" for command in documented_redis_commands())


async def run_cli(port: int, prefix: str, command: list[str]) -> list[str]:
    argv = [find_cli_binary(), "-p", str(port),
            *[word.replace("chat:", f"{prefix}:") for word in command]]
    result = await trio.run_process(argv, capture_stdout=True, capture_stderr=True)
    return result.stdout.decode().splitlines()


async def test_documented_redis_cli_commands_show_what_the_text_says(
        nodes: NodeRunner, redis_server: RedisServer, key_prefix: str) -> None:
    node1 = await nodes.start("node-1")
    node2 = await nodes.start("node-2")
    alice = await TcpClient.connect(node1.tcp_port)
    await alice.login("alice")
    bob = await TcpClient.connect(node2.tcp_port)
    await bob.login("bob")

    outputs = {" ".join(command): await run_cli(redis_server.port, key_prefix, command)
               for command in documented_redis_commands()}
    p = key_prefix
    users = outputs.pop("HGETALL chat:users")
    assert dict(zip(users[::2], users[1::2], strict=True)) == {"alice": "node-1", "bob": "node-2"}
    assert set(outputs.pop("SMEMBERS chat:nodes")) == {"node-1", "node-2"}
    assert set(outputs.pop("--scan --pattern chat:node:*:alive")) == {
        f"{p}:node:node-1:alive", f"{p}:node:node-2:alive"}
    [ttl] = outputs.pop("TTL chat:node:node-1:alive")
    assert 0 < int(ttl) <= node1.config.heartbeat_ttl
    assert set(outputs.pop("PUBSUB CHANNELS chat:*")) == {
        f"{p}:broadcast", f"{p}:node:node-1", f"{p}:node:node-2"}
    assert outputs.pop("PUBSUB NUMSUB chat:broadcast") == [f"{p}:broadcast", "2"]
    assert outputs == {}, f"documented commands this test does not check: {list(outputs)}"

    await node2.stop()
    [gone] = await run_cli(redis_server.port, key_prefix, ["TTL", "chat:node:node-2:alive"])
    assert gone == "-2"  # "the key is gone: that node stopped"
    users = await run_cli(redis_server.port, key_prefix, ["HGETALL", "chat:users"])
    assert users == ["alice", "node-1"]


def test_deploy_readme_covers_scaling_and_an_external_redis() -> None:
    text = DEPLOY_README.read_text()
    for must in ("kubectl scale deployment/chat-node", "docker compose up -d", "REDIS_URL",
                 "rediss://", "KEY_PREFIX", "CHAT_REDIS_URL", "development stand-in"):
        assert must in text, must


def test_links_lead_to_files_that_exist() -> None:
    for doc, base in ((README, ROOT), (DEPLOY_README, DEPLOY_README.parent)):
        links = re.findall(r"\]\(([^)#]+)\)", doc.read_text())
        local = [link for link in links if "://" not in link]
        assert local, doc
        for link in local:
            assert (base / link).exists(), f"{doc.name}: {link}"


def test_every_node_flag_and_its_variable_are_in_the_readme() -> None:
    flags = [setting.flag for setting in SETTINGS] + ["--log-level", "--log-format"]
    variables = [setting.env for setting in SETTINGS] + ["LOG_LEVEL", "LOG_FORMAT"]
    readme = (ROOT / "README.md").read_text()
    assert len(flags) > 15 and len(variables) > 15
    missing = [name for name in (*flags, *variables) if f"`{name}`" not in readme]
    assert not missing, f"not in the README's settings table: {missing}"


def test_protocol_md_lists_every_healthz_reason_the_node_gives() -> None:
    """Each 503 reason in node/web.py's health() appears in docs/protocol.md."""
    source = (ROOT / "node" / "web.py").read_text()
    health = source[source.index("async def health"):source.index("async def respond")]
    reasons = {text.split("(")[0].split("{")[0].strip()
               for text in re.findall(r'return 503, f?"([^"\\]+)', health)}
    assert len(reasons) >= 5, reasons
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    sentence = protocol[protocol.index("`GET /healthz`"):][:600]
    missing = [reason for reason in reasons if f"`{reason}" not in sentence]
    assert not missing, f"/healthz reasons not in protocol.md: {missing}"
