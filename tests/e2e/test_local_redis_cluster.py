"""`python -m devcluster --redis-cluster` (what `python3 dev.py cluster --redis-cluster`
runs): a Valkey Cluster of 3 primaries and 3 replicas on printed ports, recorded so
that `dev.py redis-cli` follows its redirects; the nodes in cluster mode; a signal
stops everything, the nodes first."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devcluster.processes import free_port_run
from devcluster.redis_server import ping
from tests.e2e.test_local_cluster import chat_across_two_nodes, devcluster_env

READY = "Ctrl-C stops everything"


@dataclass
class ClusterModeRun:
    """A running ``python -m devcluster --redis-cluster``; its output goes to a file."""

    process: subprocess.Popen[bytes]
    output: Path
    state_file: Path
    redis_port: int
    tcp: int

    @property
    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def server_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"started \S+ \(pid (\d+)\)", self.text)]

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while READY not in self.text:
            assert self.process.poll() is None, f"devcluster ended early:\n{self.text}"
            assert time.monotonic() < deadline, f"devcluster not ready:\n{self.text}"
            time.sleep(0.05)  # polling its output, with a deadline

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=20)


StartClusterMode = Callable[[int], ClusterModeRun]


def _is_server(pid: int) -> bool:
    try:
        return b"-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture
def start_cluster_mode(tmp_path: Path) -> Iterator[StartClusterMode]:
    started: list[ClusterModeRun] = []

    def start(nodes: int) -> ClusterModeRun:
        redis_port, tcp, http = free_port_run(6, 10000), free_port_run(nodes), free_port_run(nodes)
        run_dir = tmp_path / f"run-{len(started)}"
        run_dir.mkdir()
        command = [sys.executable, "-m", "devcluster", "--redis-cluster",
                   "--nodes", str(nodes), "--redis-port", str(redis_port),
                   "--tcp-port", str(tcp), "--http-port", str(http), "--key-prefix", "devtest"]
        with (run_dir / "output").open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                       env=devcluster_env(run_dir / "state.json"))
        run = ClusterModeRun(process, run_dir / "output", run_dir / "state.json",
                             redis_port, tcp)
        started.append(run)
        run.wait_ready()
        return run

    yield start
    for run in started:  # whatever went wrong, nothing it started outlives the test
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        for pid in filter(_is_server, run.server_pids()):
            os.kill(pid, signal.SIGKILL)


def redis_cli(run: ClusterModeRun, *args: str) -> str:
    """What ``dev.py redis-cli ARGS`` execs, from another terminal."""
    result = subprocess.run([sys.executable, "-m", "devcluster.redis_cli", *args],
                            env=devcluster_env(run.state_file), capture_output=True,
                            text=True, timeout=10, check=True)
    return result.stdout


def test_cluster_mode_starts_a_valkey_cluster_that_redis_cli_reaches_and_stops_it(
        start_cluster_mode: StartClusterMode) -> None:
    run = start_cluster_mode(0)  # no nodes: the Valkey Cluster alone
    ports = range(run.redis_port, run.redis_port + 6)
    text = run.text
    assert len(run.server_pids()) == 6
    assert text.count("  primary 127.0.0.1:") == 3 and text.count("  replica 127.0.0.1:") == 3
    for port in ports:
        assert f"127.0.0.1:{port}" in text

    # Keys in several slots: some live on another primary than the seed, so this
    # only works because the recorded cluster makes redis-cli follow redirects.
    for key in ("alpha", "bravo", "charlie"):
        assert redis_cli(run, "SET", key, key.upper()) == "OK\n"
        assert redis_cli(run, "GET", key) == f"{key.upper()}\n"
    assert "cluster_state:ok" in redis_cli(run, "CLUSTER", "INFO")

    assert run.stop(signal.SIGTERM) == 0
    assert not any(ping(port) for port in ports)
    assert not run.state_file.exists()


@pytest.fixture
def node_in_cluster_mode() -> None:
    """Skips the test while ``python -m node`` has no ``--redis-cluster`` (a sync
    fixture: a skip raised inside a trio test loses its reason)."""
    shown = subprocess.run([sys.executable, "-m", "node", "--help"], capture_output=True,
                           text=True, timeout=30, check=False).stdout
    if "--redis-cluster" not in shown:
        pytest.skip("python -m node has no --redis-cluster flag yet")


@pytest.mark.usefixtures("node_in_cluster_mode")
async def test_nodes_in_cluster_mode_chat_and_a_signal_stops_nodes_then_the_cluster(
        start_cluster_mode: StartClusterMode) -> None:
    run = start_cluster_mode(2)
    await chat_across_two_nodes(run.tcp, run.tcp + 1)
    assert run.stop(signal.SIGINT) == 0
    assert not any(ping(port) for port in range(run.redis_port, run.redis_port + 6))
    assert "Traceback" not in run.text, run.text
