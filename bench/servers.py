"""The two systems under comparison, each with a throwaway Valkey of its own, started
as processes and stopped by PID.

- ``start_ours``: ``python -m node`` processes, pacing off, logs at WARNING (to files);
  on a single Valkey, or with ``shards`` on a Valkey Cluster of that many primaries
  (no replicas), the nodes then run with ``--redis-cluster``.
- ``PeerInstall`` + ``start_peer``: the Node.js socket.io peer from ``shared/peers/node``,
  copied to a temporary directory outside the project and installed there with
  ``npm ci``; ``node server.js PORT`` processes.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from devcluster.processes import (
    NodeProcess,
    free_port,
    start_node,
    stop_processes,
    wait_healthy,
    wait_users,
)
from devcluster.redis_server import RedisServer
from devcluster.valkey_cluster import ValkeyCluster

Address = tuple[str, int]
HOST = "127.0.0.1"
OUR_FLAGS = ("--command-rate", "0", "--log-level", "WARNING")
# The peer lives beside the project (../shared/peers/node from the repository root);
# CHAT_PEER_DIR points elsewhere. Not every checkout has it: callers check peer_found().
PEER_SOURCE = Path(os.environ.get("CHAT_PEER_DIR") or
                   Path(__file__).resolve().parents[2] / "shared" / "peers" / "node")


def peer_found() -> bool:
    return (PEER_SOURCE / "server.js").is_file() and (PEER_SOURCE / "package.json").is_file()


@dataclass
class Cluster:
    """Servers (by name) sharing one Redis or one Valkey Cluster; TCP and HTTP (or
    socket.io) addresses; ``nodes``: the servers that are ours."""

    redis: RedisServer | ValkeyCluster
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    nodes: list[NodeProcess] = field(default_factory=list)
    tcp: list[Address] = field(default_factory=list)
    http: list[Address] = field(default_factory=list)

    @property
    def redis_url(self) -> str:
        return self.redis.seed_url if isinstance(self.redis, ValkeyCluster) else self.redis.url

    def redis_ports(self) -> dict[str, int]:
        """Each Redis process by name: ``redis``, or on a Valkey Cluster one per
        primary, ``redis-1``, ``redis-2``... in port order."""
        if isinstance(self.redis, ValkeyCluster):
            return {f"redis-{index + 1}": port for index, port in enumerate(self.redis.ports)}
        return {"redis": self.redis.port}

    def pids(self) -> dict[str, int]:
        if isinstance(self.redis, ValkeyCluster):
            by_port = self.redis.pids()
            redis = {name: by_port[port] for name, port in self.redis_ports().items()}
        else:
            assert self.redis.process is not None
            redis = {"redis": self.redis.process.pid}
        return {**{name: p.pid for name, p in self.servers.items()}, **redis}

    def stop(self) -> None:
        try:
            stop_processes(list(self.servers.values()))
        finally:
            self.redis.stop()


def start_redis(shards: int = 0) -> RedisServer | ValkeyCluster:
    """One Valkey (``shards`` 0), or a Valkey Cluster of ``shards`` primaries without
    replicas (a node timeout long enough that a busy machine fails no primary)."""
    if not shards:
        return RedisServer().start()
    return ValkeyCluster(primaries=shards, node_timeout_ms=5000).start()


def start_ours(nodes: int, log_dir: Path, shards: int = 0) -> Cluster:
    cluster = Cluster(start_redis(shards))
    flags = (*OUR_FLAGS, "--redis-cluster") if shards else OUR_FLAGS
    try:
        for index in range(nodes):
            name, tcp_port = f"node-{index + 1}", free_port()
            node = start_node(cluster.redis_url, name, tcp_port=tcp_port, host=HOST,
                              extra=flags, log_path=log_dir / f"{name}-{tcp_port}.log")
            cluster.nodes.append(node)
            cluster.servers[name] = node.process
            cluster.tcp.append((HOST, node.tcp_port))
            cluster.http.append((HOST, node.http_port))
        for node in cluster.nodes:
            try:
                wait_healthy(node)
            except RuntimeError as exc:  # the log may be in a directory about to go
                assert node.log_path is not None
                raise RuntimeError(f"{exc}; its log ends:\n{_tail(node.log_path)}") from exc
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_empty(cluster: Cluster, timeout: float = 60) -> None:
    """Poll our nodes' ``/healthz`` until they hold no users (the last workload's left)."""
    wait_users(cluster.nodes, 0, timeout, answer_timeout=2)


class PeerInstall:
    """A temporary copy of the peer with its ``node_modules``; removed by ``cleanup``."""

    def __init__(self, source: Path = PEER_SOURCE) -> None:
        if shutil.which("node") is None or shutil.which("npm") is None:
            raise RuntimeError("the Node.js peer needs `node` and `npm` on PATH")
        if not (source / "server.js").is_file():
            raise RuntimeError(f"no Node.js peer at {source}: set CHAT_PEER_DIR to its "
                               "folder (the one with server.js and package.json)")
        self._dir = tempfile.TemporaryDirectory(prefix="chat-peer-")
        self.path = Path(self._dir.name) / "node"
        shutil.copytree(source, self.path, ignore=shutil.ignore_patterns("node_modules"))
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=self.path, check=True, stdout=subprocess.DEVNULL, timeout=600)

    def package_version(self, package: str) -> str:
        found = self.path / "node_modules" / package / "package.json"
        return str(json.loads(found.read_text())["version"])

    def cleanup(self) -> None:
        self._dir.cleanup()


def wait_listening(process: subprocess.Popen[bytes], address: Address, name: str,
                   timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(address, timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not listening within {timeout} s") from None
            time.sleep(0.05)  # polling the port with a deadline


def start_peer(install: PeerInstall, nodes: int, log_dir: Path) -> Cluster:
    cluster = Cluster(RedisServer().start())
    try:
        env = {**os.environ, "REDIS_URL": cluster.redis_url}
        for index in range(nodes):
            name, port = f"peer-{index + 1}", free_port()
            with (log_dir / f"{name}-{port}.log").open("wb") as log:
                cluster.servers[name] = subprocess.Popen(
                    ["node", "server.js", str(port)], cwd=install.path, env=env,
                    stdout=log, stderr=subprocess.STDOUT)
            cluster.http.append((HOST, port))
        for (name, process), address in zip(cluster.servers.items(), cluster.http, strict=True):
            wait_listening(process, address, name)
    except BaseException:
        cluster.stop()
        raise
    return cluster
