"""deploy/compose.redis-cluster.yml: the chat on a six-server Valkey Cluster. Checked by
the real Docker Compose v2 binary, read with PyYAML for what cluster mode needs, and its
cluster-creating job run for real against six local cluster-enabled servers."""

import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devcluster.processes import free_port, stop_processes
from devcluster.redis_server import find_cli_binary, find_server_binary, ping
from node.config import parse_redis_url
from node.keys import Keys
from tests.support.compose import (
    INTERPOLATION,
    ROOT,
    config_without_settings,
    run_compose,
    with_defaults,
)

COMPOSE_FILE = ROOT / "deploy" / "compose.redis-cluster.yml"
MAIN_COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
HAPROXY_CFG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"
DEPLOY_README = ROOT / "deploy" / "README.md"
CONFIGMAP = ROOT / "deploy" / "k8s" / "chat-node.yaml"
VALKEYS = tuple(f"valkey-{number}" for number in range(1, 7))
NODES = ("node-1", "node-2", "node-3")
JOB = "cluster-create"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


@pytest.fixture(scope="module")
def main_services() -> dict[str, Any]:
    return yaml.safe_load(MAIN_COMPOSE_FILE.read_text())["services"]


def resolved(tmp_path: Path) -> dict[str, Any]:
    """The file as compose itself reads it: paths made absolute, defaults filled in."""
    no_settings = tmp_path / "empty.env"
    no_settings.write_text("")
    result = run_compose("-f", str(COMPOSE_FILE), "config", "--format", "json",
                         env_file=no_settings, home=tmp_path)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_compose_v2_accepts_the_file(tmp_path: Path) -> None:
    result = config_without_settings(COMPOSE_FILE, tmp_path)
    assert result.returncode == 0, result.stderr


def test_compose_v2_rejects_a_broken_file(tmp_path: Path) -> None:
    """The check above can fail: a misspelt depends_on condition is refused."""
    broken = tmp_path / "compose.redis-cluster.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("service_completed_successfully",
                                                       "service_completed"))
    result = run_compose("-f", str(broken), "config", "--quiet", env_file=ENV_EXAMPLE,
                         home=tmp_path)
    assert result.returncode != 0
    assert "condition" in result.stderr


def test_its_settings_are_the_ones_env_example_documents(tmp_path: Path) -> None:
    """Each ${CHAT_...} here is in .env.example with the same default, so the example
    changes nothing (its CHAT_REDIS_URL is for the main file and unused here)."""
    in_file = set(INTERPOLATION.findall(COMPOSE_FILE.read_text()))
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines()
             if line and not line.startswith("#")]
    assert in_file <= {tuple(line.split("=", 1)) for line in lines}
    documented = run_compose("-f", str(COMPOSE_FILE), "config", "--format", "json",
                             env_file=ENV_EXAMPLE, home=tmp_path)
    assert documented.returncode == 0, documented.stderr
    assert yaml.safe_load(documented.stdout)["services"] == resolved(tmp_path)


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: {image} has no tag"
        assert "latest" not in image.rsplit(":", 1)[1], f"{name}: {image}"


def test_six_cluster_enabled_valkeys_keep_their_data_on_their_own_volumes(
        services: dict[str, Any]) -> None:
    assert sorted(name for name in services if name.startswith("valkey")) == list(VALKEYS)
    volumes = set()
    for name in VALKEYS:
        valkey = services[name]
        major = re.fullmatch(r"valkey/valkey:(\d+)(\.\d+)*-alpine", valkey["image"])
        assert major and int(major.group(1)) >= 7, valkey["image"]  # sharded pub/sub
        command = valkey["command"]
        assert command[command.index("--cluster-enabled") + 1] == "yes"
        assert int(command[command.index("--cluster-node-timeout") + 1]) > 0
        assert command[command.index("--appendonly") + 1] == "yes"
        assert valkey["healthcheck"]["test"] == ["CMD", "valkey-cli", "ping"]
        [volume] = valkey["volumes"]
        source, target = volume.split(":")
        assert target == "/data"
        volumes.add(source)
    assert len(volumes) == len(VALKEYS)


def create_command(job: dict[str, Any]) -> list[str]:
    [script] = job["command"]
    [line] = [line for line in script.replace("\\\n", " ").splitlines()
              if "--cluster create" in line]
    return shlex.split(line)


def test_the_job_creates_the_cluster_from_all_six_once_they_are_healthy(
        services: dict[str, Any]) -> None:
    job = services[JOB]
    assert job["restart"] == "no"
    assert job["image"] == services["valkey-1"]["image"]
    assert job["depends_on"] == {name: {"condition": "service_healthy"} for name in VALKEYS}
    words = create_command(job)
    start = words.index("create") + 1
    addresses = words[start:start + len(VALKEYS)]
    assert addresses == [f"{name}:6379" for name in VALKEYS]
    assert words[words.index("--cluster-replicas") + 1] == "1"
    assert "--cluster-yes" in words


def test_nodes_run_in_cluster_mode_once_the_cluster_exists(
        services: dict[str, Any], main_services: dict[str, Any]) -> None:
    for number, name in enumerate(NODES, start=1):
        node, main = services[name], main_services[name]
        env = {key: with_defaults(value) for key, value in node["environment"].items()}
        assert env.pop("REDIS_CLUSTER") == "true"
        target = parse_redis_url(env.pop("REDIS_URL"))
        assert target.host in VALKEYS and target.database == 0
        assert node["depends_on"] == {JOB: {"condition": "service_completed_successfully"}}
        # Otherwise the very nodes of docker-compose.yml: same image, settings, ports.
        main_env = {key: with_defaults(value) for key, value in main["environment"].items()}
        del main_env["REDIS_URL"]
        assert env == main_env
        assert node["image"] == main["image"]
        assert node["ports"] == main["ports"] == [f"1000{number}:10000", f"808{number}:8080"]


def test_paths_relative_to_deploy_reach_the_repository(tmp_path: Path) -> None:
    """A file under deploy/ resolves paths against deploy/: the build context is the
    repository root and the load balancer mounts the one haproxy.cfg."""
    compose = resolved(tmp_path)
    for name in NODES:
        build = compose[name]["build"]
        assert Path(build["context"]) == ROOT and build["dockerfile"] == "deploy/Dockerfile"
    [mount] = compose["lb"]["volumes"]
    assert Path(mount["source"]) == HAPROXY_CFG and mount["read_only"] is True


def test_the_load_balancer_is_the_main_files_in_front_of_these_nodes(
        services: dict[str, Any], main_services: dict[str, Any]) -> None:
    lb, main = services["lb"], main_services["lb"]
    assert (lb["image"], lb["ports"]) == (main["image"], main["ports"])
    assert set(lb["depends_on"]) == set(NODES)
    hosts = set(re.findall(r'^\s*server \S+ "\$\{NODE_\d_HOST-([\w-]+)\}:',
                           HAPROXY_CFG.read_text(), flags=re.MULTILINE))
    assert hosts == {name for name in services if name.startswith("node-")} == set(NODES)


def test_the_docs_give_this_file_and_the_key_the_nodes_use() -> None:
    text = DEPLOY_README.read_text()
    section = text[text.index("## On a Redis Cluster"):]
    assert "docker compose -f deploy/compose.redis-cluster.yml up --build" in section
    users = Keys("chat", cluster=True).users
    for command in (f"redis-cli -c HGETALL '{users}'", f"valkey-cli -c HGETALL '{users}'"):
        assert command in section, command
    assert f"valkey-cli -c HGETALL '{users}'" in COMPOSE_FILE.read_text()
    assert '# REDIS_CLUSTER: "true"' in CONFIGMAP.read_text()


@pytest.fixture
def cluster_servers(services: dict[str, Any], tmp_path: Path) -> Iterator[list[int]]:
    """Six local servers started with the compose file's own flags; their ports."""
    ports = [free_port() for _ in VALKEYS]
    processes = []
    try:
        for port in ports:
            workdir = tmp_path / str(port)
            workdir.mkdir()
            processes.append(subprocess.Popen(
                [find_server_binary(), *services["valkey-1"]["command"][1:],
                 "--port", str(port), "--cluster-port", str(free_port()),
                 "--bind", "127.0.0.1", "-::1", "--dir", str(workdir)],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 10
        while not all(ping(port) for port in ports):
            assert time.monotonic() < deadline, "the cluster-enabled servers did not start"
            time.sleep(0.05)  # polling PING with a deadline
        yield ports
    finally:
        stop_processes(processes, timeout=5)


def run_job(job: dict[str, Any], ports: list[int], tmp_path: Path
            ) -> subprocess.CompletedProcess[str]:
    """The job's own script ($$ is compose's escape for $), its service names swapped
    for host names of this machine: "localhost", resolved by valkey-cli itself."""
    [script] = job["command"]
    script = script.replace("$$", "$").replace("-h valkey-1", f"-h localhost -p {ports[0]}")
    for name, port in zip(VALKEYS, ports, strict=True):
        script = script.replace(f"{name}:6379", f"localhost:{port}")
    assert not re.search(r"-h valkey-|valkey-\d:", script), script
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "valkey-cli").exists():
        (bin_dir / "valkey-cli").symlink_to(find_cli_binary())
    return subprocess.run([*job["entrypoint"], script], capture_output=True, text=True,
                          timeout=90, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})


def test_the_job_creates_a_cluster_by_host_name_then_leaves_it_alone(
        services: dict[str, Any], cluster_servers: list[int], tmp_path: Path) -> None:
    first = run_job(services[JOB], cluster_servers, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "All 16384 slots covered" in first.stdout
    assert first.stdout.rstrip().endswith("cluster_state:ok")

    again = run_job(services[JOB], cluster_servers, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "knows 6 servers: the cluster exists" in again.stdout
    assert "slots" not in again.stdout

    nodes = subprocess.run([find_cli_binary(), "-p", str(cluster_servers[0]), "cluster",
                            "nodes"], capture_output=True, text=True, timeout=10).stdout
    roles = [line.split()[2].removeprefix("myself,") for line in nodes.splitlines()]
    assert sorted(roles) == ["master"] * 3 + ["slave"] * 3
