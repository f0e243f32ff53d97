"""docker-compose.yml: checked by the real Docker Compose v2 binary (no engine needed for
``config``), and read with PyYAML for what the cluster needs: a healthy Redis first, three
nodes with distinct ids and their own ports, one load balancer in front of them."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.compose import (
    INTERPOLATION,
    ROOT,
    config_without_settings,
    run_compose,
    with_defaults,
)

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
NODES = ("node-1", "node-2", "node-3")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_compose_v2_accepts_the_file(tmp_path: Path) -> None:
    result = config_without_settings(COMPOSE_FILE, tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_v2_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: a misspelt depends_on condition is refused."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("service_healthy", "service_ready"))
    result = run_compose("-f", str(broken), "config", "--quiet", env_file=ENV_EXAMPLE,
                         home=tmp_path)
    assert result.returncode != 0
    assert "condition" in result.stderr


def test_env_example_lists_exactly_the_builtin_defaults(tmp_path: Path) -> None:
    """Copying .env.example to .env changes nothing: it documents the real defaults."""
    no_settings = tmp_path / "empty.env"
    no_settings.write_text("")
    plain = run_compose("config", "--format", "json", env_file=no_settings, home=tmp_path)
    documented = run_compose("config", "--format", "json", env_file=ENV_EXAMPLE, home=tmp_path)
    assert plain.returncode == 0 and documented.returncode == 0, plain.stderr + documented.stderr
    assert plain.stdout == documented.stdout

    in_compose = set(INTERPOLATION.findall(COMPOSE_FILE.read_text()))
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines()
             if line and not line.startswith("#")]
    in_example = {tuple(line.split("=", 1)) for line in lines}
    assert in_example == in_compose


def test_redis_is_pinned_and_health_checked(services: dict[str, Any]) -> None:
    redis = services["redis"]
    assert re.fullmatch(r"redis:\d+(\.\d+)*-alpine", redis["image"]), redis["image"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_redis_keeps_its_data_across_restarts_on_a_volume(services: dict[str, Any]) -> None:
    """An ordinary restart must not be an empty one: append-only file in /data, a volume."""
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    volumes = services["redis"]["volumes"]
    assert any(str(v).split(":")[1] == "/data" for v in volumes if isinstance(v, str)) or any(
        isinstance(v, dict) and v.get("target") == "/data" for v in volumes), volumes


def test_three_nodes_wait_for_a_healthy_redis_with_distinct_ids_and_ports(
        services: dict[str, Any]) -> None:
    published = []
    for number, name in enumerate(NODES, start=1):
        node = services[name]
        assert node["depends_on"]["redis"]["condition"] == "service_healthy"
        assert node["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (ROOT / node["build"]["context"] / node["build"]["dockerfile"]).is_file()
        env = {key: with_defaults(value) for key, value in node["environment"].items()}
        assert env["NODE_ID"] == name
        assert env["HOST"] == "0.0.0.0"
        assert env["REDIS_URL"] == "redis://redis:6379"
        assert (env["TCP_PORT"], env["HTTP_PORT"]) == ("10000", "8080")
        assert node["ports"] == [f"1000{number}:10000", f"808{number}:8080"]
        published += node["ports"]
    assert len(set(published)) == len(published)


def test_the_load_balancer_publishes_one_tcp_and_one_http_port(
        services: dict[str, Any]) -> None:
    lb = services["lb"]
    assert re.fullmatch(r"haproxy:\d+\.\d+(-alpine)?", lb["image"]), lb["image"]
    assert "./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in lb["volumes"]
    assert set(lb["depends_on"]) == set(NODES)
    ports = [with_defaults(port) for port in lb["ports"]]
    assert ports == ["10000:10000", "8080:8080", "127.0.0.1:8404:8404"]


def test_the_load_balancer_config_names_exactly_the_compose_nodes(
        services: dict[str, Any]) -> None:
    """haproxy.cfg's defaults point at the compose services on the nodes' own ports."""
    servers = re.findall(r'^\s*server (\S+) "\$\{NODE_\d_HOST-([\w-]+)\}:'
                         r'\$\{NODE_\d_(TCP|HTTP)_PORT-(\d+)\}"',
                         HAPROXY_CFG.read_text(), flags=re.MULTILINE)
    assert len(servers) == 2 * len(NODES)
    node_services = {name for name in services if name.startswith("node-")}
    for server, host, kind, port in servers:
        assert server == host and host in node_services
        assert port == with_defaults(services[host]["environment"][f"{kind}_PORT"])
